package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TempDirs;
import dev.ferry.testing.TestGitServer;

/**
 * A repository whose {@code postBuild} floods its output (300,000 lines of 4,000 characters, then one 50 MB line
 * without a newline), launched anonymously through the build API of the real portal — {@code target/ferry.jar} in its
 * own JVM with a 256 MB heap, on the local platform with Debian's Jupyter. The portal keeps answering, shows the
 * beginning and the end of the log with a line saying how much was not shown (also to a client that resumes in the
 * middle), launches the next repository, and its heap after a collection is back near where it was.
 */
class HostileBuildIT {

    private static final int HEAP_MB = 256;
    /** What a finished launch and its build may keep of a flood (ferry.build.log.max-bytes, twice), with room for noise. */
    private static final long RETAINED_ALLOWANCE = 24L * 1024 * 1024;

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static TestGitServer git;
    private static Process portal;
    private static Path log;
    private static Path work;
    private static int port;

    @BeforeAll
    static void startThePortal() throws Exception {
        Parts.requireJupyter();
        Path jar = Path.of("target", "ferry.jar");
        assertThat(jar).as("the jar built by package, before integration tests").exists();
        git = new TestGitServer();
        work = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-hostile-build"));
        log = work.resolve("portal.log");
        port = Ports.free();
        // java -jar as an operator runs it, without -XX:+ExitOnOutOfMemoryError
        portal = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx" + HEAP_MB + "m",
                        "-jar",
                        jar.toString(),
                        "--server.port=" + port,
                        "--ferry.platform=local",
                        "--ferry.local.work-dir=" + work.resolve("work"),
                        "--ferry.repo.allowed-schemes=http,https",
                        "--ferry.repo.allow-private-addresses=true",
                        "--ferry.launch.timeout=60s")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (health() != 200) {
            assertThat(portal.isAlive()).as("the portal runs: %s", portalLog()).isTrue();
            assertThat(System.nanoTime())
                    .as("the portal answers /health within 90 s: %s", portalLog())
                    .isLessThan(deadline);
            Thread.sleep(300);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (portal != null && portal.isAlive()) {
            portal.destroy(); // SIGTERM: the portal stops its sessions
            if (!portal.waitFor(30, TimeUnit.SECONDS)) {
                portal.destroyForcibly();
            }
        }
        if (work != null) {
            processesIn(work).forEach(ProcessHandle::destroyForcibly); // what a portal that did not stop left running
        }
        if (git != null) {
            git.close();
        }
    }

    @Test
    void aFloodingBuildLeavesThePortalAnsweringLaunchingAndBackToItsHeap() throws Exception {
        assertThat(launchToReady(git.createRepo("warm-up", Map.of("README.md", "# first\n"))))
                .isEqualTo("ready");
        long baseline = heapAfterGc();

        String hostile = git.createRepo("flood", Map.of("postBuild", """
                #!/bin/sh
                line=$(head -c 4000 /dev/zero | tr '\\0' x)
                yes "$line" | head -n 300000
                head -c 50000000 /dev/zero | tr '\\0' y
                """));
        String url = buildUrl(hostile);
        // a client that reads the beginning, then goes away (a closed tab; EventSource would come back later)
        EventStream.Result first =
                EventStream.read(url, Map.of("Accept", "text/event-stream"), Duration.ofSeconds(60), 20);
        assertThat(first.events()).as(portalLog()).hasSize(20);
        String launchId = first.lastId().substring(0, first.lastId().lastIndexOf('.'));

        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        do {
            assertThat(health())
                    .as("/health while the flood runs: %s", portalLog())
                    .isEqualTo(200);
            assertThat(System.nanoTime())
                    .as("the flooding launch ends within 90 s")
                    .isLessThan(deadline);
            Thread.sleep(500);
        } while (launchesInProgress() > 0);

        // the client comes back with the id of the last event it read: the rest of the beginning, a line saying how
        // much was not kept, the end of the log (the 50 MB line cut), and ready
        EventStream.Result resumed = EventStream.read(
                url,
                Map.of("Accept", "text/event-stream", "Last-Event-ID", first.lastId()),
                Duration.ofSeconds(60),
                Integer.MAX_VALUE);
        List<String> messages = messages(resumed);
        int marker = indexOf(messages, "lines (");
        assertThat(marker)
                .as("a line saying what was not shown, in %s events", messages.size())
                .isPositive();
        assertThat(messages.get(marker)).matches("(?s)… [0-9,]+ lines \\([0-9.]+ [KMG]B\\) not shown ….*");
        assertThat(messages.get(marker - 1)).startsWith("x".repeat(4000));
        assertThat(messages.get(marker + 1)).startsWith("x".repeat(4000));
        assertThat(messages).anyMatch(m -> m.startsWith("yyyy") && m.contains("line cut at"));
        assertThat(resumed.last().get("phase")).as(portalLog()).isEqualTo("ready");
        assertIncreasing(first.ids(), resumed.ids());
        long shownLines = messages.stream().filter(m -> m.startsWith("xxxx")).count()
                + first.events().stream()
                        .filter(e -> String.valueOf(e.get("message")).startsWith("xxxx"))
                        .count();
        long notShown = Long.parseLong(messages.get(marker)
                .replaceAll("^… ([0-9,]+) lines.*", "$1")
                .replace(",", "")
                .strip());
        assertThat(shownLines + notShown)
                .as("every line of the flood shown or counted")
                .isEqualTo(300_000);

        // a client that resumes from an event of the dropped middle is told how many lines it missed, then gets the end
        EventStream.Result fromTheMiddle = EventStream.read(
                url,
                Map.of("Accept", "text/event-stream", "Last-Event-ID", launchId + ".150000"),
                Duration.ofSeconds(60),
                Integer.MAX_VALUE);
        assertThat(messages(fromTheMiddle).get(0)).matches("(?s)… [0-9,]+ lines not shown ….*");
        assertThat(messages(fromTheMiddle).get(1)).startsWith("x".repeat(4000));
        assertThat(fromTheMiddle.last().get("phase")).isEqualTo("ready");
        assertIncreasing(List.of(launchId + ".150000"), fromTheMiddle.ids());

        assertThat(health()).as(portalLog()).isEqualTo(200);
        assertThat(launchToReady(git.createRepo("after-the-flood", Map.of("README.md", "# next\n"))))
                .isEqualTo("ready");
        long after = heapAfterGc();
        System.out.printf(
                "HostileBuildIT: heap after GC %d MB before the flood, %d MB after%n", baseline >> 20, after >> 20);
        assertThat(after)
                .as("heap after GC: %d MB before the flood, %d MB after", baseline >> 20, after >> 20)
                .isLessThan(baseline + RETAINED_ALLOWANCE);
        assertThat(portal.isAlive()).isTrue();

        portal.destroy(); // SIGTERM: the portal stops, and stops its sessions
        assertThat(portal.waitFor(30, TimeUnit.SECONDS))
                .as("the portal ends on SIGTERM: %s", portalLog())
                .isTrue();
        assertThat(processesIn(work)).as("processes left running").isEmpty();
    }

    /** Processes whose working directory or command line is under {@code dir} (sessions, kernels, build steps). */
    private static List<ProcessHandle> processesIn(Path dir) {
        String prefix = dir.toString();
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> {
                    if (p.info().commandLine().map(c -> c.contains(prefix)).orElse(false)) {
                        return true;
                    }
                    try {
                        return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd"))
                                .toString()
                                .startsWith(prefix);
                    } catch (IOException | UnsupportedOperationException | SecurityException e) {
                        return false;
                    }
                })
                .toList();
    }

    private static String buildUrl(String repo) {
        return "http://127.0.0.1:" + port + "/build/git/" + URLEncoder.encode(repo, StandardCharsets.UTF_8) + "/main";
    }

    private static String launchToReady(String repo) throws Exception {
        EventStream.Result result = EventStream.read(
                buildUrl(repo), Map.of("Accept", "text/event-stream"), Duration.ofSeconds(90), Integer.MAX_VALUE);
        assertThat(result.events()).as(portalLog()).isNotEmpty();
        return (String) result.last().get("phase");
    }

    private static List<String> messages(EventStream.Result result) {
        return result.events().stream()
                .map(e -> String.valueOf(e.get("message")))
                .toList();
    }

    private static int indexOf(List<String> messages, String part) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).startsWith("… ") && messages.get(i).contains(part)) {
                return i;
            }
        }
        return -1;
    }

    /** Event ids of one launch, across a reconnection, only grow. */
    private static void assertIncreasing(List<String> before, List<String> after) {
        List<Long> seqs = new ArrayList<>();
        for (String id : before) {
            seqs.add(Long.parseLong(id.substring(id.lastIndexOf('.') + 1)));
        }
        for (String id : after) {
            seqs.add(Long.parseLong(id.substring(id.lastIndexOf('.') + 1)));
        }
        for (int i = 1; i < seqs.size(); i++) {
            assertThat(seqs.get(i))
                    .as("event id %d after %d", seqs.get(i), seqs.get(i - 1))
                    .isGreaterThan(seqs.get(i - 1));
        }
    }

    private static int health() {
        try {
            return HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static double launchesInProgress() throws Exception {
        String metrics = HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("(?m)^binderhub_inprogress_launches(?:\\{[^}]*})? (\\S+)$")
                .matcher(metrics);
        assertThat(m.find()).as(metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** The portal's heap in use after a full collection, as the JVM reports it to jcmd. */
    private static long heapAfterGc() throws Exception {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        Matcher used = Pattern.compile("used (\\d+)K").matcher(info);
        assertThat(used.find()).as(info).isTrue();
        return Long.parseLong(used.group(1)) * 1024;
    }

    private static String jcmd(String command) throws Exception {
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(portal.pid()),
                        command)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0)
                .as(out)
                .isTrue();
        return out;
    }

    private static String portalLog() {
        try {
            String text = Files.readString(log);
            return text.length() > 8000 ? text.substring(text.length() - 8000) : text;
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
