package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TempDirs;
import dev.ferry.testing.TestGitServer;

/**
 * Ferry as an operator runs it, a process with its secrets in its environment (the admin password) and on its command
 * line (the key that signs build tokens). A repository's postBuild reads every {@code /proc/<pid>/environ} and
 * {@code cmdline} it can and prints what looks like Ferry's settings: the build log, which any visitor of the launch
 * page reads, must hold neither secret.
 */
class LocalSandboxSecretsTest {

    private static TestGitServer git;
    private static Process ferry;

    @BeforeAll
    static void parts() throws Exception {
        Parts.requireJupyter();
        Parts.requireBubblewrap();
        git = new TestGitServer();
    }

    @AfterAll
    static void stop() throws Exception {
        if (ferry != null) {
            ferry.destroy();
            ferry.waitFor();
        }
        if (git != null) {
            git.close();
        }
    }

    @Test
    void aPostBuildReadingEveryProcFileFindsNoneOfFerrysSecrets() throws Exception {
        String adminPassword = "admin-" + UUID.randomUUID();
        String tokenSecret = "token-key-" + UUID.randomUUID();
        Path workDir = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-secrets"));
        int port = Ports.free();
        List<String> command = FerryJvm.command(List.of(FerryJvm.localSettings(
                workDir.resolve("work"), port, "--ferry.rate-limit.token-secret=" + tokenSecret)));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve("ferry.log").toFile());
        builder.environment().put("FERRY_ADMIN_PASSWORD", adminPassword);
        ferry = builder.start();
        FerryJvm.awaitHealthy(port, Duration.ofSeconds(90));

        String repo = git.createRepo(
                "reads-proc",
                Map.of(
                        "postBuild",
                        String.join(
                                "\n",
                                "#!/bin/sh",
                                "echo \"scanning $(ls -d /proc/[0-9]* | wc -l) processes\"",
                                "for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr '\\0' '\\n' < \"$f\"; done 2>/dev/null "
                                        + "| grep -a -i -E 'ferry|secret|password' | sed 's/^/found: /'",
                                "echo scan done",
                                "")));
        EventStream.Result result = EventStream.read(
                "http://127.0.0.1:" + port + "/build/git/" + URLEncoder.encode(repo, StandardCharsets.UTF_8) + "/main");

        StringBuilder log = new StringBuilder();
        result.events().forEach(e -> log.append(e.get("message")));
        assertThat(result.last().get("phase")).as(log.toString()).isEqualTo("ready");
        assertThat(log).as("the scan ran").contains("scan done");
        assertThat(log).doesNotContain(adminPassword).doesNotContain(tokenSecret);
    }
}
