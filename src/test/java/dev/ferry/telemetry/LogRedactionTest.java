package dev.ferry.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import dev.ferry.FerryApplication;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TempDirs;

/**
 * Secrets never reach the log: a request Tomcat cannot parse is logged with its request line, session token
 * included; Ferry's log takes the token out, and does the same for Authorization headers and URL credentials
 * anyone logs. Real Ferry, real socket, the console output as an operator sees it.
 */
@ExtendWith(OutputCaptureExtension.class)
class LogRedactionTest {

    private static final String TOKEN = "f3rrysecrettokenvalue0123456789";

    @Test
    void aRequestTomcatCannotParseIsLoggedWithoutItsToken(CapturedOutput output) throws Exception {
        int port = Ports.free();
        ConfigurableApplicationContext ferry = new SpringApplicationBuilder(FerryApplication.class)
                .run(
                        "--server.port=" + port,
                        "--ferry.platform=local",
                        "--spring.jmx.enabled=false",
                        "--ferry.local.work-dir="
                                + TempDirs.deleteOnExit(Files.createTempDirectory("ferry-log-redaction")),
                        // the first parse error is logged at INFO, later ones at DEBUG: see both
                        "--logging.level.org.apache.coyote.http11.Http11Processor=DEBUG");
        try {
            String answer = send(
                    port,
                    "GET /v2/gh/owner/repo/main?token=" + TOKEN + "<x> HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            + "Connection: close\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 400");
            LoggerFactory.getLogger(LogRedactionTest.class)
                    .warn(
                            "upstream said no to Authorization: token {} for " + "https://user:{}@example.org/r.git",
                            TOKEN,
                            TOKEN);

            assertThat(output.getAll())
                    .as("Tomcat logged the request it could not parse")
                    .contains("Error parsing HTTP request header")
                    .contains("token=***")
                    .contains("Authorization: ***")
                    .contains("https://***@example.org/r.git")
                    .doesNotContain(TOKEN);
        } finally {
            ferry.close();
        }
    }

    @Test
    void redactsTokensHeadersAndCredentialsButNothingElse() {
        assertThat(LogRedaction.redact("GET /user/a/api?x=1&token=abc&y=2 [/x?token=def{ ]"))
                .isEqualTo("GET /user/a/api?x=1&token=***&y=2 [/x?token=*** ]");
        assertThat(LogRedaction.redact("Authorization: Bearer abc.def")).isEqualTo("Authorization: ***");
        assertThat(LogRedaction.redact("Cookie: _xsrf=1; session=2")).isEqualTo("Cookie: ***");
        assertThat(LogRedaction.redact("build 127-0-0-1-git-r failed (token bucket empty)"))
                .isEqualTo("build 127-0-0-1-git-r failed (token bucket empty)");
    }

    @Test
    void redactsSecretsWrittenAsJsonMembersPlainOrEscaped() {
        assertThat(LogRedaction.redact("headers {\"Authorization\":\"Basic YWRtaW46cw==\",\"Accept\":\"*/*\"}"))
                .isEqualTo("headers {\"Authorization\":\"***\",\"Accept\":\"*/*\"}");
        assertThat(LogRedaction.redact("{\"token\": \"abc123\", \"cookie\":\"a=1; b=2\", \"repo\":\"x\"}"))
                .isEqualTo("{\"token\": \"***\", \"cookie\":\"***\", \"repo\":\"x\"}");
        assertThat(LogRedaction.redact("{\"message\":\"sent {\\\"proxy-authorization\\\":\\\"Bearer s3cr3t\\\"}\"}"))
                .isEqualTo("{\"message\":\"sent {\\\"proxy-authorization\\\":\\\"***\\\"}\"}");
    }

    private static String send(int port, String request) throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
