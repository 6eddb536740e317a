package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.test.context.TestPropertySource;

import dev.ferry.testing.RawHttp;

/**
 * A notebook server's output goes to its session's {@code server.log} within {@code ferry.local.max-server-log}: a
 * repository whose {@code start} script (or anything the server runs) prints without end cannot fill Ferry's disk.
 */
@TestPropertySource(properties = "ferry.local.max-server-log=1MB")
class ServerLogTest extends LocalPlatformTestSupport {

    private static final long LIMIT = 1024 * 1024;

    @AfterEach
    void cleanUp() {
        stopAllSessions();
    }

    @Test
    void aStartScriptThatPrintsWithoutEndFillsTheLogOnlyToItsBound() throws Exception {
        // 10 MB a second for as long as the session runs, in the background beside the server
        String repo = GIT.createRepo(
                "prints-forever",
                files(
                        "start",
                        "#!/bin/sh\n"
                                + "(while true; do head -c 1000000 /dev/zero | tr '\\0' x; echo; sleep 0.1; done) &\n"
                                + "exec \"$@\"\n"));

        Map<String, Object> ready = launch(repo, "main").last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        Path log = workDir().resolve("sessions").resolve(sessionId(ready)).resolve("server.log");
        Thread.sleep(3000); // some 30 MB more printed

        assertThat(Files.size(log)).as("server.log while the session runs").isLessThanOrEqualTo(LIMIT);
        String url = (String) ready.get("url");
        RawHttp.Response status = RawHttp.get(
                port,
                url.substring(url.indexOf("/user/")) + "api/status",
                Map.of("Authorization", "token " + ready.get("token")));
        assertThat(status.status())
                .as("the server answers while its output is dropped")
                .isEqualTo(200);
    }

    @Test
    void pastTheBoundOnlyTheLastLinesAreKeptAndTheLogSaysHowMuchWasLeftOut(@TempDir Path dir) throws Exception {
        Process printer = new ProcessBuilder(
                        "sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x; echo; echo the last line")
                .redirectErrorStream(true)
                .start();
        Path log = dir.resolve("server.log");

        ServerLog.pump(printer.getInputStream(), log, 100_000, "test-server-log")
                .join(30_000);

        String text = Files.readString(log, StandardCharsets.ISO_8859_1);
        assertThat(Files.size(log)).isLessThan(100_000 + ServerLog.TAIL_BYTES + 200);
        assertThat(text).startsWith("x".repeat(1000));
        assertThat(text).contains("bytes of the server's output not kept (ferry.local.max-server-log");
        assertThat(text).endsWith("x\nthe last line\n");
        assertThat(List.of(text.split("\n"))).as("the head, the note, the tail").hasSizeGreaterThanOrEqualTo(3);
    }
}
