package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.ferry.testing.JupyterClient;

/** Sessions left idle are stopped within idle-timeout + interval; traffic through the proxy keeps them alive. */
@TestPropertySource(properties = {"ferry.cull.idle-timeout=3s", "ferry.cull.interval=1s"})
class CullingTest extends LocalPlatformTestSupport {

    @AfterEach
    void cleanUp() {
        stopAllSessions();
    }

    @Test
    void idleSessionIsCulledAndItsUrlAnswers404() throws Exception {
        String repo = GIT.createRepo("idle", files("README.md", "# idle\n"));
        Map<String, Object> ready = launch(repo, "main").last();
        String id = sessionId(ready);
        ProcessHandle server = ProcessHandle.of(serverPid(id)).orElseThrow();
        long readyAt = System.nanoTime();

        Awaitility.await()
                .atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> sessions.find(id).isEmpty());
        long culledAfterMillis = (System.nanoTime() - readyAt) / 1_000_000;
        assertThat(culledAfterMillis)
                .as("culled within idle-timeout + interval (+ slack)")
                .isLessThan(3_000 + 1_000 + 1_500);

        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !server.isAlive());
        assertNothingLeftBehind();

        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        HttpResponse<String> after = jupyter.get("api/status");
        assertThat(after.statusCode()).isEqualTo(404);
        assertThat(after.body()).contains("This session has ended: it was idle for more than 3 seconds.");

        assertWebSocketUpgradeIsRefusedAndClosed("/user/" + id + "/api/kernels/x/channels");
    }

    @Test
    void trafficThroughTheProxyKeepsASessionAlive() throws Exception {
        String repo = GIT.createRepo("busy", files("README.md", "# busy\n"));
        Map<String, Object> ready = launch(repo, "main").last();
        String id = sessionId(ready);
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));

        for (int i = 0; i < 8; i++) {
            Thread.sleep(1_000);
            assertThat(jupyter.get("api/contents").statusCode()).isEqualTo(200);
        }
        assertThat(sessions.find(id))
                .as("used every second for 8 s with a 3 s idle timeout")
                .isPresent();
    }

    @Test
    void aClientThatLeavesBeforeReadyLeavesNoSessionRunningForever() throws Exception {
        String repo = GIT.createRepo("abandoned", files("README.md", "# abandoned\n"));
        int before = sessions.sessions().size();
        dev.ferry.testing.EventStream.read(
                buildUrl(repo, "main"), Map.of("Accept", "text/event-stream"), Duration.ofMinutes(1), 2);

        Awaitility.await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> sessions.sessions().size() > before);
        Awaitility.await()
                .atMost(Duration.ofSeconds(15))
                .until(() -> sessions.sessions().size() == before);
        assertNothingLeftBehind();
    }

    /** An upgrade to an unknown or ended session gets 404 at once and the connection is closed, never held open. */
    private void assertWebSocketUpgradeIsRefusedAndClosed(String path) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                            + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long t0 = System.nanoTime();
            InputStream in = socket.getInputStream();
            String response =
                    new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // returns when the server closes
            long closedAfter = (System.nanoTime() - t0) / 1_000_000;
            assertThat(response).startsWith("HTTP/1.1 404");
            assertThat(closedAfter).as("closed at once").isLessThan(2_000);
        }
    }
}
