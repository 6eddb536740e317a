package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.system.CapturedOutput;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.Parts;

/** Acceptance of the foundation: from a git URL to code running in a kernel through Ferry's proxy. */
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class LocalLaunchTest extends LocalPlatformTestSupport {

    @AfterEach
    void stopSessions() {
        stopAllSessions();
    }

    @Test
    void launchesRepositoryAndRunsCodeThroughTheProxy() throws Exception {
        String repo = GIT.createRepo(
                "hello",
                files(
                        "hello.ipynb", "{\"cells\": [], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}",
                        "requirements.txt", "ipykernel\n",
                        "postBuild", "#!/bin/sh\necho built-by-postBuild > postbuild-marker.txt\n"));

        EventStream.Result result = launch(repo, "main");

        assertThat(result.status()).isEqualTo(200);
        assertThat(result.phases())
                .containsSubsequence("waiting", "fetching", "building", "built", "launching", "ready");
        assertThat(result.ids()).hasSameSizeAs(result.events());
        Map<String, Object> ready = result.last();
        String commit =
                ((String) ready.get("binder_persistent_request")).substring(("v2/git/" + encode(repo) + "/").length());
        assertThat(commit).matches("[0-9a-f]{40}");
        assertThat((String) ready.get("url")).matches("http://127\\.0\\.0\\.1:" + port + "/user/[a-z2-7]{32}/");
        assertThat((String) ready.get("token")).hasSizeGreaterThanOrEqualTo(32);
        assertThat(ready.get("image"))
                .isEqualTo(result.events().stream()
                        .filter(e -> "built".equals(e.get("phase")))
                        .findFirst()
                        .orElseThrow()
                        .get("imageName"));
        assertThat(ready.get("repo_url")).isEqualTo(repo);
        assertThat(ready.get("binder_launch_host")).isEqualTo(base() + "/");
        assertThat(ready.get("binder_request")).isEqualTo("v2/git/" + encode(repo) + "/main");
        assertThat(ready.get("binder_client_ip")).isEqualTo("127.0.0.1");
        assertThat((String) ready.get("message")).startsWith("server running at " + ready.get("url"));

        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        HttpResponse<String> contents = jupyter.get("api/contents");
        assertThat(contents.statusCode()).isEqualTo(200);
        assertThat(contents.body()).contains("hello.ipynb").contains("postbuild-marker.txt");
        assertThat(jupyter.get("files/postbuild-marker.txt").body()).isEqualTo("built-by-postBuild\n");

        String kernel = jupyter.startKernel();
        assertThat(jupyter.execute(kernel, "print(6*7)")).isEqualTo("42\n");
        assertThat(jupyter.execute(kernel, "import os; print(os.environ['BINDER_PERSISTENT_REQUEST'])"))
                .isEqualTo(ready.get("binder_persistent_request") + "\n");
    }

    @Test
    void credentialsInTheRepositoryUrlAreNeverShownOrLogged(CapturedOutput output) throws Exception {
        GIT.createRepo("with-login", files("README.md", "# login\n"));
        String withSecret = GIT.url("with-login").replace("http://", "http://alice:hunter2secret@");
        EventStream.Result result = launch(withSecret, "main");
        assertThat(result.last().get("phase")).isEqualTo("ready");
        assertThat(result.events().toString()).doesNotContain("hunter2secret").contains("***@");
        assertThat(output.getAll()).doesNotContain("hunter2secret");
    }

    @Test
    void jupyterlabServicesClientRunsCodeThroughTheProxy() throws Exception {
        Path node = Parts.requireNodeModules();
        String repo = GIT.createRepo("lab-client", files("README.md", "# client\n"));
        Map<String, Object> ready = launch(repo, "HEAD").last();
        assertThat(ready.get("phase")).isEqualTo("ready");

        Process p = new ProcessBuilder(
                        "node", "kernel.mjs", (String) ready.get("url"), (String) ready.get("token"), "print(6*7)")
                .directory(node.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("OUTPUT \"42\\n\"");
    }

    @Test
    void fiftyMegabytesGoUpAndComeBackIntactThroughTheContentsApi() throws Exception {
        String repo = GIT.createRepo("transfer", files("README.md", "# transfer\n"));
        Map<String, Object> ready = launch(repo, "main").last();
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));

        Path dir = Files.createTempDirectory("ferry-transfer");
        Path body = dir.resolve("upload.json");
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[1024 * 1024];
        Random random = new Random(42);
        try (OutputStream out = Files.newOutputStream(body)) {
            out.write("{\"type\":\"file\",\"format\":\"base64\",\"content\":\"".getBytes(StandardCharsets.US_ASCII));
            try (OutputStream b64 = Base64.getEncoder().wrap(new NonClosing(out))) {
                for (int i = 0; i < 50; i++) {
                    random.nextBytes(block);
                    sent.update(block);
                    b64.write(block);
                }
            }
            out.write("\"}".getBytes(StandardCharsets.US_ASCII));
        }

        HeapWatch heap = HeapWatch.start();
        HttpResponse<String> put = jupyter.http()
                .send(
                        jupyter.request("api/contents/big.bin")
                                .header("Content-Type", "application/json")
                                .PUT(HttpRequest.BodyPublishers.ofFile(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isIn(200, 201);

        MessageDigest received = MessageDigest.getInstance("SHA-256");
        HttpResponse<InputStream> get = jupyter.http()
                .send(jupyter.request("files/big.bin").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        long length = 0;
        try (InputStream in = get.body()) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) != -1) {
                received.update(buffer, 0, n);
                length += n;
            }
        }
        long growth = heap.stop();
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(length).isEqualTo(50L * 1024 * 1024);
        assertThat(HexFormat.of().formatHex(received.digest()))
                .isEqualTo(HexFormat.of().formatHex(sent.digest()));
        System.out.printf(
                "[measure] 50 MiB up and down through the proxy: peak heap growth %.1f MiB (whole JVM, "
                        + "including the test's own client)%n",
                growth / 1048576.0);
        Files.delete(body);
        Files.delete(dir);
    }

    @Test
    void tenConcurrentLaunchesOfAnUnbuiltCommitShareOneBuild() throws Exception {
        String repo = GIT.createRepo("crowd", files("requirements.txt", "ipykernel\n", "README.md", "# crowd\n"));
        long buildsBefore = builds.buildsStarted();

        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            List<Callable<EventStream.Result>> launches = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                launches.add(() -> launch(repo, "main"));
            }
            List<EventStream.Result> results = new ArrayList<>();
            for (Future<EventStream.Result> f : pool.invokeAll(launches)) {
                results.add(f.get());
            }
            assertThat(results)
                    .allSatisfy(r -> assertThat(r.last().get("phase"))
                            .as(r.events().toString())
                            .isEqualTo("ready"));
            assertThat(results.stream().map(LocalPlatformTestSupport::sessionId).distinct())
                    .hasSize(10);
            assertThat(builds.buildsStarted() - buildsBefore).isEqualTo(1);
            assertThat(sessions.sessions()).hasSize(10);
            for (EventStream.Result r : results) {
                JupyterClient jupyter = new JupyterClient(
                        (String) r.last().get("url"), (String) r.last().get("token"));
                assertThat(jupyter.get("api/status").statusCode()).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aBuiltCommitIsLaunchedWithoutBuildingAgain() throws Exception {
        String repo = GIT.createRepo("cached", files("README.md", "# cached\n"));
        EventStream.Result first = launch(repo, "main");
        assertThat(first.phases()).contains("building");
        long buildsBefore = builds.buildsStarted();

        EventStream.Result second = launch(repo, "main");

        assertThat(second.phases()).containsExactly("waiting", "built", "launching", "launching", "ready");
        assertThat(second.events().get(1).get("message")).isEqualTo("Found built image, launching...\n");
        assertThat(builds.buildsStarted()).isEqualTo(buildsBefore);
    }

    @Test
    void refsResolveToTheirCommits() throws Exception {
        String repo = GIT.createRepo("refs", files("a.txt", "one\n"));
        String second = GIT.commit("refs", "feature/plots", files("b.txt", "two\n"), "on a branch");
        GIT.tag("refs", "v1.0", "feature/plots");

        for (String ref : List.of("feature/plots", "v1.0", second)) {
            Map<String, Object> ready = launch(repo, ref).last();
            assertThat(ready.get("phase")).as(ref).isEqualTo("ready");
            assertThat((String) ready.get("binder_persistent_request")).as(ref).endsWith("/" + second);
        }
    }

    @Test
    void sessionsOfOneCommitDoNotShareFiles() throws Exception {
        String repo = GIT.createRepo("isolated", files("shared.txt", "original\n"));
        Map<String, Object> a = launch(repo, "main").last();
        Map<String, Object> b = launch(repo, "main").last();
        JupyterClient first = new JupyterClient((String) a.get("url"), (String) a.get("token"));
        JupyterClient second = new JupyterClient((String) b.get("url"), (String) b.get("token"));

        HttpResponse<String> put = first.http()
                .send(
                        first.request("api/contents/shared.txt")
                                .PUT(HttpRequest.BodyPublishers.ofString(
                                        "{\"type\":\"file\",\"format\":\"text\",\"content\":\"changed by A\"}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).isEqualTo(200);

        assertThat(first.get("files/shared.txt").body()).isEqualTo("changed by A");
        assertThat(second.get("files/shared.txt").body()).isEqualTo("original\n");
    }

    /** Samples the used heap while a transfer runs; reports the peak above the starting point. */
    static final class HeapWatch {
        private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        private final AtomicLong peak = new AtomicLong();
        private final long baseline;
        private final Thread sampler;
        private volatile boolean running = true;

        private HeapWatch() {
            System.gc();
            baseline = memory.getHeapMemoryUsage().getUsed();
            sampler = new Thread(() -> {
                while (running) {
                    peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sampler.setDaemon(true);
            sampler.start();
        }

        static HeapWatch start() {
            return new HeapWatch();
        }

        long stop() throws InterruptedException {
            running = false;
            sampler.join();
            return Math.max(0, peak.get() - baseline);
        }
    }

    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws java.io.IOException {
            flush();
        }
    }
}
