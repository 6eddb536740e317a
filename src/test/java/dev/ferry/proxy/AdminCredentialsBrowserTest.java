package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.testing.Parts;

/**
 * An operator logged in to {@code /admin} in a real browser (Debian's Chromium through playwright-core) then opens a
 * session whose server is a repository's: that server records every request head it gets, and asks the browser for a
 * password ({@code 401 WWW-Authenticate: Basic}). It must never see the operator's credentials — no
 * {@code Authorization}, no admin session cookie. The browser context also holds the operator's password as
 * playwright's {@code httpCredentials}: it stands for an operator who answers a password dialog on the portal's
 * origin (or a browser that remembered one), so the session's challenge must not even reach the browser.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"ferry.platform=local", "ferry.admin.password=" + AdminCredentialsBrowserTest.PASSWORD})
class AdminCredentialsBrowserTest extends ScriptedUpstreamBase {

    static final String PASSWORD = "operator-browser-secret";
    private static final String SESSION = "recorder" + "a".repeat(24);
    private final List<String> heads = new CopyOnWriteArrayList<>();

    @Override
    String session() {
        return SESSION;
    }

    @Test
    void theOperatorsCredentialsNeverReachASessionOpenedInTheSameBrowser() throws Exception {
        Path frontend = Parts.requireBrowser();
        Thread server = new Thread(this::serveAndRecord, "recording-session-server");
        server.setDaemon(true);
        server.start();
        Path config = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempFile("ferry-admin-browser", ".json"));
        Files.writeString(
                config,
                JsonMapper.builder()
                        .build()
                        .writeValueAsString(Map.of(
                                "base",
                                "http://127.0.0.1:" + port,
                                "session",
                                SESSION,
                                "admin",
                                Map.of("username", "admin", "password", PASSWORD))));

        Process p = new ProcessBuilder("node", "tests/admin-credentials.mjs", config.toString())
                .directory(frontend.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
        System.out.println(out);
        Files.deleteIfExists(config);

        assertThat(heads)
                .as("the session's server got the page, its fetch, and the challenged requests: " + out)
                .hasSizeGreaterThanOrEqualTo(3);
        for (String head : heads) {
            assertThat(head)
                    .as("a request head the session got")
                    .doesNotContainIgnoringCase("\nAuthorization:")
                    .doesNotContain(PortalCredentials.ADMIN_SESSION_COOKIE)
                    .doesNotContain("JSESSIONID");
        }
        assertThat(exit).as(out).isZero();
        assertThat(out).contains("all admin credential checks passed");
    }

    /** The session's server: records each request head; a page, a 401 Basic challenge, or "ok". */
    private void serveAndRecord() {
        while (true) {
            Socket accepted;
            try {
                accepted = upstream.accept();
            } catch (IOException e) {
                return; // the server socket closed after the test
            }
            try (Socket s = accepted) {
                s.setSoTimeout(10_000);
                String head = ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
                heads.add(head);
                String answer;
                if (head.startsWith("GET /user/" + SESSION + "/page ")) {
                    String page = "<!doctype html><title>session</title><h1>A session</h1>"
                            + "<script>fetch('api/contents').then(r => document.title = 'fetched ' + r.status)</script>";
                    answer = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + page.length()
                            + "\r\nConnection: close\r\n\r\n" + page;
                } else if (head.contains("/basic")) {
                    answer = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Ferry\"\r\n"
                            + "Content-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope";
                } else {
                    answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                            + "Connection: close\r\n\r\n{}";
                }
                s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
            } catch (IOException e) {
                // this connection only (the proxy may open one it does not use)
            }
        }
    }
}
