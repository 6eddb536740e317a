package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;

/**
 * Bad input and faults on the local platform: each ends in a {@code failed} event (HTTP 200, as BinderHub does) with
 * a status and a sentence, leaves no process or session folder behind, and does not disturb a session that was
 * already running (the bystander, checked after every test).
 */
@org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
class LaunchFailuresTest extends LocalPlatformTestSupport {

    private String bystanderUrl;
    private String bystanderToken;

    @BeforeEach
    void startBystander() throws Exception {
        if (bystanderUrl == null || sessions.sessions().isEmpty()) {
            String repo = GIT.createRepo("bystander-" + System.nanoTime(), files("README.md", "# bystander\n"));
            Map<String, Object> ready = launch(repo, "main").last();
            assertThat(ready.get("phase")).isEqualTo("ready");
            bystanderUrl = (String) ready.get("url");
            bystanderToken = (String) ready.get("token");
        }
    }

    @AfterEach
    void bystanderIsUndisturbed() throws Exception {
        JupyterClient bystander = new JupyterClient(bystanderUrl, bystanderToken);
        assertThat(bystander.get("api/status").statusCode()).isEqualTo(200);
        assertThat(sessions.sessions()).hasSize(1);
        // what a failed launch or a dead server left is removed (stopping a process tree takes a moment)
        long bystanderPid = serverPid(sessionId(java.util.Map.of("url", bystanderUrl)));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(sessionDirs()).hasSize(1);
            // the bystander's server (its sandbox and what runs in it), nothing else
            java.util.Set<Long> tree = ProcessHandle.of(bystanderPid).stream()
                    .flatMap(h -> java.util.stream.Stream.concat(java.util.stream.Stream.of(h), h.descendants()))
                    .map(ProcessHandle::pid)
                    .collect(java.util.stream.Collectors.toSet());
            assertThat(serverProcesses()).isNotEmpty().allMatch(p -> tree.contains(p.pid()));
        });
    }

    @AfterAll
    void stopSessions() {
        stopAllSessions();
    }

    private Map<String, Object> failed(String url) throws Exception {
        EventStream.Result result = EventStream.read(url);
        assertThat(result.status()).isEqualTo(200);
        Map<String, Object> last = result.last();
        assertThat(last.get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat((String) last.get("message")).doesNotContain("Exception").doesNotContain("\tat ");
        return last;
    }

    @Test
    void unencodedRepositoryUrlIsExplained() throws Exception {
        Map<String, Object> failed = failed(base() + "/build/git/http://127.0.0.1/x.git/main");
        assertThat(failed.get("status_code")).isEqualTo(400);
        assertThat((String) failed.get("message")).contains("not URL-encoded");
    }

    @Test
    void fileUrlsAreRefused() throws Exception {
        Map<String, Object> failed = failed(buildUrl("file:///etc", "HEAD"));
        assertThat(failed.get("status_code")).isEqualTo(400);
        assertThat((String) failed.get("message")).contains("file: are not accepted");
    }

    @Test
    void hostThatDoesNotResolveIsExplained() throws Exception {
        Map<String, Object> failed = failed(buildUrl("https://no-such-host.invalid/repo.git", "main"));
        assertThat(failed.get("status_code")).isEqualTo(400);
        assertThat((String) failed.get("message"))
                .isEqualTo("The host no-such-host.invalid could not be found. Check the repository URL for typos.\n");
    }

    @Test
    void hostThatRefusesTheConnectionIsExplained() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Map<String, Object> failed = failed(buildUrl("http://127.0.0.1:" + closedPort + "/repo.git", "main"));
        assertThat(failed.get("status_code")).isEqualTo(502);
        assertThat((String) failed.get("message")).contains("connection was refused");
    }

    @Test
    void repositoryThatDoesNotExistIsExplained() throws Exception {
        Map<String, Object> failed = failed(buildUrl(GIT.url("no-such-repo"), "main"));
        assertThat(failed.get("status_code")).isEqualTo(404);
        assertThat((String) failed.get("message"))
                .startsWith("No git repository was found at " + GIT.url("no-such-repo"));
    }

    @Test
    void unknownRefNamesTheRefAndTheRepository() throws Exception {
        String repo = GIT.createRepo("known-refs", files("a.txt", "a\n"));
        Map<String, Object> failed = failed(buildUrl(repo, "no-such-branch"));
        assertThat(failed.get("status_code")).isEqualTo(404);
        assertThat((String) failed.get("message"))
                .isEqualTo("Could not find the branch or tag 'no-such-branch' in " + repo
                        + ". Check the name, or use HEAD for the default branch.\n");
    }

    @Test
    void requirementsThatFailToInstallFailTheBuildWithPipsError() throws Exception {
        String repo = GIT.createRepo("bad-requirements", files("requirements.txt", "not a valid requirement line!\n"));
        EventStream.Result result = EventStream.read(buildUrl(repo, "main"));
        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(422);
        assertThat((String) failed.get("message")).contains("requirements.txt failed (pip exited with");
        assertThat(result.events())
                .anySatisfy(e -> assertThat((String) e.get("message")).contains("Invalid requirement"));
        assertThat(envDirs()).noneMatch(d -> d.contains("bad-requirements"));
    }

    @Test
    void failedBuildIsNotCachedAsASuccess() throws Exception {
        String repo = GIT.createRepo("fails-twice", files("requirements.txt", "not a valid requirement line!\n"));
        long before = builds.buildsStarted();
        assertThat(EventStream.read(buildUrl(repo, "main")).last().get("phase")).isEqualTo("failed");
        assertThat(EventStream.read(buildUrl(repo, "main")).last().get("phase")).isEqualTo("failed");
        assertThat(builds.buildsStarted() - before).isEqualTo(2);
    }

    @Test
    void postBuildThatExitsNonZeroFailsTheBuild() throws Exception {
        String repo =
                GIT.createRepo("bad-postbuild", files("binder/postBuild", "#!/bin/sh\necho about to fail\nexit 3\n"));
        EventStream.Result result = EventStream.read(buildUrl(repo, "main"));
        Map<String, Object> failed = result.last();
        assertThat(failed.get("status_code")).isEqualTo(422);
        assertThat((String) failed.get("message"))
                .isEqualTo("The repository's postBuild script failed (exit code 3). Its output is in the log.\n");
        assertThat(result.events()).anySatisfy(e -> assertThat(e.get("message")).isEqualTo("about to fail\n"));
    }

    @Test
    void serverThatCrashesAtStartFailsTheLaunchWithItsLog() throws Exception {
        // Configuration in the environment's etc/jupyter is read (the repository's own .jupyter is not).
        String repo = GIT.createRepo(
                "crashing-server",
                files(
                        "postBuild",
                        "#!/bin/sh\nmkdir -p \"$VIRTUAL_ENV/etc/jupyter\"\n"
                                + "printf \"import sys\\nprint('config says no', flush=True)\\nsys.exit(7)\\n\" "
                                + "> \"$VIRTUAL_ENV/etc/jupyter/jupyter_notebook_config.py\"\n"));
        Map<String, Object> failed = failed(buildUrl(repo, "main"));
        assertThat(failed.get("status_code")).isEqualTo(500);
        assertThat((String) failed.get("message"))
                .startsWith("The notebook server stopped while starting (exit code 7)")
                .contains("config says no");
    }

    @Test
    void serverThatDiesWhileInUseEndsTheSessionClearly() throws Exception {
        String repo = GIT.createRepo("dies-in-use", files("README.md", "# dies\n"));
        Map<String, Object> ready = launch(repo, "main").last();
        String id = sessionId(ready);
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        String kernel = jupyter.startKernel();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        WebSocket ws = HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .buildAsync(
                        URI.create("ws" + ((String) ready.get("url")).substring(4) + "api/kernels/" + kernel
                                + "/channels?token=" + ready.get("token")),
                        new WebSocket.Listener() {
                            @Override
                            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                                closed.complete(statusCode);
                                return null;
                            }

                            @Override
                            public void onError(WebSocket webSocket, Throwable error) {
                                closed.complete(-1);
                            }
                        })
                .get(10, TimeUnit.SECONDS);

        ProcessHandle.of(serverPid(id)).orElseThrow().destroyForcibly();

        assertThat(closed.get(20, TimeUnit.SECONDS))
                .as("the open kernel WebSocket ends instead of hanging")
                .isNotNull();
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> sessions.find(id).isEmpty());
        HttpResponse<String> after = jupyter.get("api/status");
        assertThat(after.statusCode()).isEqualTo(404);
        assertThat(after.body()).contains("This session has ended: the notebook server stopped unexpectedly");
        ws.abort();
    }

    @Test
    void buildOnlyIsRefusedUnlessTheOperatorAllowsIt() throws Exception {
        String repo = GIT.createRepo("build-only-refused", files("a.txt", "a\n"));
        Map<String, Object> failed = failed(buildUrl(repo, "main") + "?build_only=true");
        assertThat(failed.get("status_code")).isEqualTo(400);
        assertThat((String) failed.get("message")).startsWith("Building but not launching is not permitted");
    }

    @Test
    void withoutCorsSettingsNoOtherOriginMayReadTheBuildApi() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(buildUrl("https://x.invalid/r.git", "main")))
                                .header("Accept", "text/event-stream")
                                .header("Origin", "http://docs.example.test")
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void missingAcceptHeaderIsAFailedEvent() throws Exception {
        String repo = GIT.createRepo("no-accept", files("a.txt", "a\n"));
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(buildUrl(repo, "main")))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body())
                .isEqualTo("data: {\"phase\":\"failed\",\"status_code\":400,"
                        + "\"message\":\"Missing Accept header: text/event-stream\\n\"}\n\n");
    }

    @Test
    void launchPageOfAMalformedLinkIsAClearPage() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(
                                        URI.create(base() + "/v2/git/https:%3Cscript%3Ealert(1)%3C%2Fscript%3E/main"))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body())
                .contains("This link cannot be launched")
                .contains("not URL-encoded")
                .doesNotContain("<script>");
    }

    @Test
    void launchPageNeverEchoesMarkupFromTheLink() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(
                                        URI.create(
                                                base()
                                                        + "/v2/git/https%3A%2F%2Fexample.org%2F%3Cscript%3Ealert(1)%3C%2Fscript%3E.git/main"))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).doesNotContain("<script>alert").contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    }

    private java.util.List<String> envDirs() throws Exception {
        try (var list = Files.list(workDir().resolve("envs"))) {
            return list.map(p -> p.getFileName().toString()).toList();
        }
    }
}
