package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.ferry.FerryApplication;
import dev.ferry.testing.EventStream;
import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TestGitServer;

/**
 * Ferry's own life: stopping it stops every notebook server it started; a Ferry that was killed with its servers
 * unsandboxed ({@code ferry.local.sandbox=none}; sandboxed servers die with Ferry, see LocalShutdownTest) leaves them
 * running, and the next Ferry started on the same work dir removes them.
 */
class LocalLifecycleTest {

    @AutoClose
    private static TestGitServer git;

    @BeforeAll
    static void parts() throws Exception {
        Parts.requireJupyter();
        git = new TestGitServer();
    }

    private static String[] settings(Path workDir, int port, String sandbox) {
        return FerryJvm.localSettings(workDir, port, "--ferry.local.sandbox=" + sandbox);
    }

    private static ConfigurableApplicationContext startInThisJvm(Path workDir, int port, String sandbox) {
        return new SpringApplicationBuilder(FerryApplication.class).run(settings(workDir, port, sandbox));
    }

    private static Map<String, Object> launch(int port, String repo) throws Exception {
        String url = "http://127.0.0.1:" + port + "/build/git/"
                + java.net.URLEncoder.encode(repo, java.nio.charset.StandardCharsets.UTF_8) + "/main";
        Map<String, Object> ready = EventStream.read(url).last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        return ready;
    }

    private static ProcessHandle server(Path workDir, Map<String, Object> ready) throws IOException {
        String[] parts = ((String) ready.get("url")).split("/");
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(
                workDir.resolve("sessions").resolve(parts[parts.length - 1]).resolve("session.properties"))) {
            p.load(in);
        }
        return ProcessHandle.of(Long.parseLong(p.getProperty("pid"))).orElseThrow();
    }

    @Test
    void stoppingFerryStopsEveryServerItStarted() throws Exception {
        Path workDir = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempDirectory("ferry-lifecycle"));
        String repo = git.createRepo("lifecycle-stop", Map.of("README.md", "# stop\n"));
        int port = Ports.free();
        ConfigurableApplicationContext ferry = startInThisJvm(workDir, port, "bubblewrap");
        ProcessHandle first;
        ProcessHandle second;
        try {
            first = server(workDir, launch(port, repo));
            second = server(workDir, launch(port, repo));
            assertThat(first.isAlive()).isTrue();
            assertThat(second.isAlive()).isTrue();
        } finally {
            ferry.close();
        }
        assertThat(first.isAlive()).isFalse();
        assertThat(second.isAlive()).isFalse();
        assertThat(LocalLayout.children(workDir.resolve("sessions"))).isEmpty();
        assertThat(ProcessTree.mentioning(workDir.toString())).isEmpty();
    }

    @Test
    void ferryStartedAfterACrashRemovesWhatTheCrashedOneLeft() throws Exception {
        Path workDir = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempDirectory("ferry-lifecycle"));
        String repo = git.createRepo("lifecycle-crash", Map.of("README.md", "# crash\n"));
        int port = Ports.free();
        List<String> command = FerryJvm.command(List.of(settings(workDir, port, "none")));
        Process crashing = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve("crashing-ferry.log").toFile())
                .start();
        ProcessHandle orphan;
        try {
            FerryJvm.awaitHealthy(port, Duration.ofSeconds(60));
            orphan = server(workDir, launch(port, repo));
        } finally {
            crashing.destroyForcibly().waitFor();
        }
        assertThat(orphan.isAlive())
                .as("a killed Ferry cannot stop its servers")
                .isTrue();

        ConfigurableApplicationContext next = startInThisJvm(workDir, Ports.free(), "none");
        try {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !orphan.isAlive());
            assertThat(LocalLayout.children(workDir.resolve("sessions"))).isEmpty();
            assertThat(ProcessTree.mentioning(workDir.resolve("sessions").toString()))
                    .isEmpty();
        } finally {
            next.close();
        }
    }
}
