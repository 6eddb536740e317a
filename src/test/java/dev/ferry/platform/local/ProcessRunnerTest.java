package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dev.ferry.testing.TempDirs;

/** A build step's output, read from a real child process. */
class ProcessRunnerTest {

    @Test
    void aStepPrintingTenMegabytesWithoutANewlineIsReadCutAndTheNextLineStillArrives() throws Exception {
        Path dir = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-runner"));
        List<String> lines = new CopyOnWriteArrayList<>();

        ProcessRunner.Result result = ProcessRunner.run(
                List.of("/bin/sh", "-c", "echo before; head -c 10000000 /dev/zero | tr '\\0' x; echo; echo after"),
                dir,
                Map.of("PATH", "/usr/bin:/bin"),
                lines::add,
                () -> false);

        assertThat(result.exitCode()).isZero();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("before");
        assertThat(lines.get(1)).isEqualTo("x".repeat(ProcessRunner.MAX_LINE_BYTES) + " … (line cut at 65536 bytes)");
        assertThat(lines.get(2)).isEqualTo("after");
    }
}
