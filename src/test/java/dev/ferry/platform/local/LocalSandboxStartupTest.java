package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import dev.ferry.FerryApplication;
import dev.ferry.testing.Ports;

/**
 * Where bubblewrap is missing, the local platform does not quietly run repository code unconfined: it refuses to
 * start with a sentence naming the package and the setting, unless the operator chose {@code ferry.local.sandbox=none},
 * which starts with a warning and says so on {@code /health}.
 */
@ExtendWith(OutputCaptureExtension.class)
class LocalSandboxStartupTest {

    private static String[] settings(Path workDir, int port, String... more) {
        String[] base = {
            "--server.port=" + port,
            "--ferry.platform=local",
            "--ferry.local.work-dir=" + workDir,
            "--ferry.local.bubblewrap=" + workDir.resolve("no-such-bwrap"),
            "--spring.jmx.enabled=false",
            "--logging.level.root=WARN"
        };
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @Test
    void withoutBubblewrapTheLocalPlatformRefusesToStartAndSaysWhatToDo(@TempDir Path workDir) throws Exception {
        assertThatThrownBy(() -> new SpringApplicationBuilder(FerryApplication.class)
                        .run(settings(workDir, Ports.free()))
                        .close())
                .rootCause()
                .hasMessage("The local platform runs repository code in a bubblewrap sandbox, and "
                        + "ferry.local.bubblewrap (" + workDir.resolve("no-such-bwrap")
                        + ") is not an executable file. "
                        + "Install bubblewrap (Debian/Ubuntu: apt install bubblewrap), or set ferry.local.bubblewrap to "
                        + "its path; only on a machine whose users you trust, set ferry.local.sandbox=none to run "
                        + "repository code without isolation.");
    }

    @Test
    void withSandboxNoneItStartsWarnsAndHealthSaysSessionsAreNotIsolated(@TempDir Path workDir, CapturedOutput output)
            throws Exception {
        int port = Ports.free();
        try (ConfigurableApplicationContext ferry = new SpringApplicationBuilder(FerryApplication.class)
                .run(settings(workDir, port, "--ferry.local.sandbox=none"))) {
            assertThat(output.getAll())
                    .contains("WARN")
                    .contains("ferry.local.sandbox=none: builds and notebook servers " + "run WITHOUT isolation");
            HttpResponse<String> health = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(health.body()).contains("\"service\":\"Sandbox\"").contains("\"isolated\":false");
        }
    }
}
