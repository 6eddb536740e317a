package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;

/**
 * Faults on the local platform, each ending in a state the user can see — a {@code failed} event or an HTTP answer with
 * a sentence, within a bound — and nothing left running or on disk: a server that never answers at start, a server
 * that stops answering mid-session (SIGSTOP), a build step killed mid-way, a git host that drops the connection in the
 * middle of the pack. (A server that crashes mid-session: {@code LaunchFailuresTest}.)
 */
@TestPropertySource(properties = {"ferry.launch.timeout=20s", "ferry.proxy.read-timeout=3s"})
class LocalFaultsTest extends LocalPlatformTestSupport {

    @AfterEach
    void cleanUp() {
        stopAllSessions();
        assertNothingLeftBehind();
    }

    private static Map<String, Object> failedEvent(EventStream.Result result) {
        Map<String, Object> last = result.last();
        assertThat(last.get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat((String) last.get("message")).doesNotContain("Exception").doesNotContain("\tat ");
        return last;
    }

    @Test
    void serverThatNeverAnswersFailsTheLaunchAtTheTimeoutAndIsStopped() throws Exception {
        String repo = GIT.createRepo(
                "never-answers",
                files(
                        "start",
                        "#!/bin/sh\necho 'start: waiting for a licence server that never answers'\nsleep 600\nexec \"$@\"\n"));
        long t0 = System.nanoTime();
        Map<String, Object> failed = failedEvent(launch(repo, "main"));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

        assertThat(failed.get("status_code")).isEqualTo(504);
        assertThat((String) failed.get("message"))
                .startsWith("The notebook server did not answer within 20 seconds.")
                .contains("waiting for a licence server that never answers");
        assertThat(seconds).as("seconds from request to failed").isLessThan(90);
        // the start script and its sleep are stopped with the server, and the session folder removed (cleanUp)
    }

    @Test
    void serverThatStopsAnsweringGets504WithASentenceWithinTheReadTimeout() throws Exception {
        String repo = GIT.createRepo("stops-answering", files("README.md", "# frozen\n"));
        Map<String, Object> ready = launch(repo, "main").last();
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        assertThat(jupyter.get("api/contents").statusCode()).isEqualTo(200); // the proxy now keeps a connection open
        long pid = serverPid(sessionId(ready));

        signal("STOP", pid);
        try {
            long t0 = System.nanoTime();
            HttpResponse<String> frozen = jupyter.get("api/contents");
            double seconds = (System.nanoTime() - t0) / 1e9;

            assertThat(frozen.statusCode()).isEqualTo(504);
            assertThat(frozen.body()).contains("The notebook server of this session did not answer within 3 seconds.");
            assertThat(seconds)
                    .as("one read timeout (3 s), not two: a timed-out request is not retried")
                    .isBetween(2.9, 6.0);
        } finally {
            signal("CONT", pid);
        }
        assertThat(jupyter.get("api/contents").statusCode())
                .as("the session works again once the server answers")
                .isEqualTo(200);
    }

    @Test
    void buildStepKilledMidwayFailsTheBuildWithASentenceAndTheNextLaunchBuildsAgain() throws Exception {
        // The sandboxed build sees no file of the test's; a repository that appears on the git server tells it instead.
        String flag = GIT.url("killed-build-flag") + "/info/refs?service=git-upload-pack";
        String repo = GIT.createRepo(
                "killed-build",
                files(
                        "postBuild",
                        "#!/bin/sh\nif python3 -c \"import urllib.request; "
                                + "urllib.request.urlopen('" + flag + "')\" 2>/dev/null; then echo second build; "
                                + "else echo building slowly; sleep 300; fi\n"));
        long buildsBefore = builds.buildsStarted();
        CompletableFuture<EventStream.Result> first = CompletableFuture.supplyAsync(() -> read(buildUrl(repo, "main")));
        ProcessHandle postBuild = Awaitility.await()
                .atMost(Duration.ofSeconds(120))
                .until(
                        () -> ProcessTree.mentioning(workDir().toString()).stream()
                                .filter(p -> p.info()
                                        .arguments()
                                        .map(a -> String.join(" ", a).contains("postBuild"))
                                        .orElse(false))
                                .findFirst()
                                .orElse(null),
                        p -> p != null);
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> !postBuild.descendants().toList().isEmpty());

        postBuild.destroyForcibly(); // SIGKILL, as the out-of-memory killer does; its sleep is left orphaned

        Map<String, Object> failed = failedEvent(first.get(60, TimeUnit.SECONDS));
        assertThat(failed.get("status_code")).isEqualTo(422);
        assertThat((String) failed.get("message"))
                .startsWith("The repository's postBuild script failed (exit code 137).")
                .contains("killed by signal 9");
        Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(serverProcesses())
                    .as("the orphaned sleep of the killed step")
                    .isEmpty();
            assertThat(envDirs()).as("no half-built environment is kept").noneMatch(d -> d.contains("killed-build"));
        });

        GIT.createRepo("killed-build-flag", files("README.md", "the first build ran\n"));
        Map<String, Object> ready = launch(repo, "main").last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        assertThat(builds.buildsStarted() - buildsBefore)
                .as("the second launch built again")
                .isEqualTo(2);
    }

    @Test
    void gitHostThatDropsTheConnectionMidPackFailsTheBuildWithASentence() throws Exception {
        String upstream = GIT.createRepo(
                "dropped-mid-pack", files("data.txt", "x".repeat(200_000) + "\n", "README.md", "# drop\n"));
        try (CuttingProxy proxy = new CuttingProxy(GIT.port())) {
            String repo = upstream.replace(":" + GIT.port() + "/", ":" + proxy.port() + "/");
            EventStream.Result result = launch(repo, "main");
            Map<String, Object> failed = failedEvent(result);

            assertThat(proxy.cut.get()).as("the pack was cut off").isTrue();
            assertThat(result.phases()).contains("fetching");
            assertThat(failed.get("status_code")).isEqualTo(502);
            assertThat((String) failed.get("message")).startsWith("Could not read the git repository at " + repo);
            assertThat(envDirs()).as("no half-fetched checkout is kept").noneMatch(d -> d.contains("dropped-mid-pack"));
        }
    }

    private static EventStream.Result read(String url) {
        try {
            return EventStream.read(url);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signals the session's process and its descendants (the server runs inside the sandbox that process is). */
    private static void signal(String name, long pid) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("kill", "-" + name, Long.toString(pid)));
        ProcessHandle.of(pid).orElseThrow().descendants().forEach(p -> command.add(Long.toString(p.pid())));
        assertThat(new ProcessBuilder(command).start().waitFor()).isZero();
    }

    private List<String> envDirs() {
        return LocalLayout.children(workDir().resolve("envs")).stream()
                .map(p -> p.getFileName().toString())
                .toList();
    }

    /**
     * A TCP proxy in front of the test git server that passes everything through until the pack starts to arrive
     * (its {@code PACK} signature), lets a few bytes of it through and closes both sides: a git host that goes away in
     * the middle of a fetch, after the refs were listed.
     */
    private static final class CuttingProxy implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        final AtomicBoolean cut = new AtomicBoolean();

        CuttingProxy(int target) throws IOException {
            this.target = target;
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::accept, "cutting-proxy");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                    pump(client, upstream, false);
                    pump(upstream, client, true);
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void pump(Socket from, Socket to, boolean response) {
            Thread t = new Thread(
                    () -> {
                        byte[] buffer = new byte[8192];
                        try (InputStream in = from.getInputStream();
                                OutputStream out = to.getOutputStream()) {
                            int n;
                            while ((n = in.read(buffer)) > 0) {
                                int at = response
                                        ? new String(buffer, 0, n, StandardCharsets.ISO_8859_1).indexOf("PACK")
                                        : -1;
                                if (at >= 0) {
                                    // the pack starts: a few bytes of it, then the host is gone
                                    out.write(buffer, 0, Math.min(n, at + 20));
                                    out.flush();
                                    cut.set(true);
                                    return;
                                }
                                out.write(buffer, 0, n);
                                out.flush();
                            }
                        } catch (IOException ignored) {
                            // one side closed
                        } finally {
                            try {
                                from.close();
                                to.close();
                            } catch (IOException ignored) {
                                // closing
                            }
                        }
                    },
                    "cutting-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
