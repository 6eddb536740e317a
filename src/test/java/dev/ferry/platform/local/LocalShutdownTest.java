package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.FerryApplication;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TestGitServer;

/**
 * Ferry told to stop while it works, as a real process: SIGTERM with a session (and its kernel) running, a build in
 * its postBuild and a launch waiting in line for the only seat ends the waiting clients' streams with a {@code failed}
 * event saying Ferry is restarting, stops every child, and exits within 30 seconds. After SIGKILL in the same
 * situation every sandboxed child dies with Ferry; unsandboxed ({@code ferry.local.sandbox=none}) they keep running,
 * and the next Ferry on the same work dir stops them. Either way the next Ferry removes their folders.
 */
class LocalShutdownTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AutoClose
    private static TestGitServer git;

    private final List<Process> started = new ArrayList<>();
    private final List<Path> temporary = new ArrayList<>();

    @BeforeAll
    static void parts() throws Exception {
        Parts.requireJupyter();
        git = new TestGitServer();
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : started) {
            p.destroyForcibly().waitFor();
        }
        for (Path dir : temporary) {
            ProcessTree.stopAll(ProcessTree.inside(dir), 1000);
            LocalLayout.deleteTree(dir);
        }
    }

    /** A build event stream read on its own thread, so that a test can watch it while it runs. */
    private static final class LiveStream {
        final List<Map<String, Object>> events = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> ended = new CompletableFuture<>();

        LiveStream(String url) {
            Thread reader = new Thread(
                    () -> {
                        try {
                            HttpResponse<java.io.InputStream> r = HTTP.send(
                                    HttpRequest.newBuilder(URI.create(url))
                                            .header("Accept", "text/event-stream")
                                            .GET()
                                            .build(),
                                    HttpResponse.BodyHandlers.ofInputStream());
                            try (BufferedReader in =
                                    new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                                String line;
                                while ((line = in.readLine()) != null) {
                                    if (line.startsWith("data: ")) {
                                        events.add(JSON.readValue(
                                                line.substring(6), new TypeReference<Map<String, Object>>() {}));
                                    }
                                }
                            }
                            ended.complete(null);
                        } catch (Exception e) {
                            ended.completeExceptionally(e);
                        }
                    },
                    "live-stream");
            reader.setDaemon(true);
            reader.start();
        }

        boolean said(String text) {
            return events.stream()
                    .anyMatch(e -> String.valueOf(e.get("message")).contains(text));
        }

        Map<String, Object> last() {
            return events.get(events.size() - 1);
        }
    }

    private Path tempDir(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        temporary.add(dir);
        return dir;
    }

    private static String[] settings(Path workDir, int port, String sandbox) {
        return FerryJvm.localSettings(
                workDir,
                port,
                "--ferry.quota.total=1",
                "--ferry.quota.queue.leave-after=120s",
                "--logging.level.dev.ferry=INFO",
                "--ferry.local.sandbox=" + sandbox);
    }

    /** Ferry as a child JVM on the test classpath, as an operator runs it; returns once it answers. */
    private Process startFerry(Path workDir, int port, String sandbox) throws Exception {
        List<String> command = FerryJvm.command(List.of(settings(workDir, port, sandbox)));
        Path log = workDir.resolveSibling(workDir.getFileName() + "-ferry.log");
        temporary.add(log);
        Process ferry = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        started.add(ferry);
        FerryJvm.awaitHealthy(port, Duration.ofSeconds(90));
        return ferry;
    }

    private static String buildUrl(int port, String repo) {
        return "http://127.0.0.1:" + port + "/build/git/" + URLEncoder.encode(repo, StandardCharsets.UTF_8) + "/main";
    }

    /** What a Ferry at work holds: a session with a kernel, a build in its postBuild, a launch waiting in line. */
    private record Work(ProcessHandle server, LiveStream build, LiveStream queued) {}

    private Work putToWork(String name, int port, Path workDir) throws Exception {
        String plain = git.createRepo(name + "-plain", Map.of("README.md", "# plain\n"));
        String slow = git.createRepo(
                name + "-slow-build", Map.of("postBuild", "#!/bin/sh\necho building for five minutes\nsleep 300\n"));

        LiveStream first = new LiveStream(buildUrl(port, plain));
        first.ended.get(180, TimeUnit.SECONDS);
        Map<String, Object> ready = first.last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        new JupyterClient((String) ready.get("url"), (String) ready.get("token")).startKernel();

        LiveStream build = new LiveStream(buildUrl(port, slow));
        Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> build.said("building for five minutes"));
        LiveStream queued = new LiveStream(buildUrl(port, plain));
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> queued.said("1st in line"));

        String[] parts = ((String) ready.get("url")).split("/");
        java.util.Properties p = new java.util.Properties();
        try (var in = Files.newBufferedReader(
                workDir.resolve("sessions").resolve(parts[parts.length - 1]).resolve("session.properties"))) {
            p.load(in);
        }
        ProcessHandle server =
                ProcessHandle.of(Long.parseLong(p.getProperty("pid"))).orElseThrow();
        assertThat(server.descendants().toList()).as("the session's kernel").isNotEmpty();
        return new Work(server, build, queued);
    }

    /** A Ferry process of its own work dir, put to work: a session with its kernel, a build, and a launch in line. */
    private record Busy(Path workDir, Process ferry, Work work) {

        /** What Ferry started and still runs: server, kernel, postBuild and its sleep. */
        List<ProcessHandle> children() {
            List<ProcessHandle> children = ProcessTree.inside(workDir).stream()
                    .filter(h -> h.pid() != ferry.pid())
                    .toList();
            assertThat(children).as("server, kernel, postBuild and its sleep").hasSizeGreaterThanOrEqualTo(4);
            return children;
        }
    }

    private Busy busyFerry(String name, String sandbox) throws Exception {
        Path workDir = Files.createDirectories(tempDir("ferry-" + name).resolve("work"));
        int port = Ports.free();
        Process ferry = startFerry(workDir, port, sandbox);
        return new Busy(workDir, ferry, putToWork(name, port, workDir));
    }

    /** No process runs in {@code workDir}, no session folder is left, and the unfinished build left no environment. */
    private static void assertNothingLeftIn(Path workDir) throws Exception {
        assertThat(ProcessTree.inside(workDir))
                .as("any process of the work dir")
                .isEmpty();
        assertThat(LocalLayout.children(workDir.resolve("sessions")))
                .as("session folders")
                .isEmpty();
        assertThat(LocalLayout.children(workDir.resolve("envs")))
                .as("unfinished environments")
                .noneMatch(env -> env.getFileName().toString().contains("slow-build"));
    }

    /** The next Ferry on {@code workDir} has started (and cleaned up) by the time this returns. */
    private static void assertTheNextFerryLeavesNothing(Path workDir, String sandbox) throws Exception {
        try (ConfigurableApplicationContext next =
                new SpringApplicationBuilder(FerryApplication.class).run(settings(workDir, Ports.free(), sandbox))) {
            assertNothingLeftIn(workDir);
        }
    }

    private static void awaitAllEnded(List<ProcessHandle> processes) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(processes.stream()
                                .filter(ProcessHandle::isAlive)
                                .toList())
                        .as("children still running")
                        .isEmpty());
    }

    @Test
    void sigtermEndsWaitingClientsWithASentenceStopsEveryChildAndExitsWithinThirtySeconds() throws Exception {
        Busy busy = busyFerry("sigterm", "bubblewrap");
        List<ProcessHandle> children = busy.children();

        long t0 = System.nanoTime();
        busy.ferry().destroy(); // SIGTERM
        boolean exited = busy.ferry().waitFor(45, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertThat(exited).as("Ferry exited").isTrue();
        assertThat(seconds).as("seconds from SIGTERM to exit").isLessThan(30);
        for (LiveStream waiting : List.of(busy.work().build(), busy.work().queued())) {
            waiting.ended.get(5, TimeUnit.SECONDS);
            assertThat(waiting.last())
                    .as(waiting.events.toString())
                    .containsEntry("phase", "failed")
                    .containsEntry("status_code", 503)
                    .containsEntry("message", "Ferry is restarting; launch again in a minute.\n");
        }
        assertThat(busy.work().server().isAlive()).isFalse();
        awaitAllEnded(children);
        assertNothingLeftIn(busy.workDir());
    }

    @Test
    void afterSigkillEverySandboxedChildDiesWithFerryAndTheNextFerryRemovesTheirFolders() throws Exception {
        Busy busy = busyFerry("sandboxed", "bubblewrap");
        List<ProcessHandle> children = busy.children();

        busy.ferry().destroyForcibly().waitFor(); // SIGKILL: no chance to stop anything
        awaitAllEnded(children);
        assertThat(busy.work().server().isAlive()).isFalse();
        assertTheNextFerryLeavesNothing(busy.workDir(), "bubblewrap");
    }

    @Test
    void afterSigkillTheNextFerryStopsWhatTheKilledOneLeftRunningUnsandboxedAndRemovesItsFolders() throws Exception {
        Busy busy = busyFerry("sigkill", "none");

        busy.ferry().destroyForcibly().waitFor(); // SIGKILL: no chance to stop anything
        List<ProcessHandle> orphans = ProcessTree.inside(busy.workDir());
        assertThat(orphans)
                .as("left running: server, kernel, postBuild and its sleep")
                .hasSizeGreaterThanOrEqualTo(4)
                .contains(busy.work().server());

        try (ConfigurableApplicationContext next = new SpringApplicationBuilder(FerryApplication.class)
                .run(settings(busy.workDir(), Ports.free(), "none"))) {
            assertThat(orphans.stream().filter(ProcessHandle::isAlive).toList())
                    .as("still running")
                    .isEmpty();
            assertNothingLeftIn(busy.workDir());
        }
    }
}
