package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * Slow-header (slowloris) visitors at the front door: a connection that sends its request head a line at a time is
 * never idle, so only a deadline for the whole head ends it. The deadline is 1 s here; kept-alive connections may idle
 * for the keep-alive timeout (60 s, the default) between requests.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"ferry.platform=local", "ferry.proxy.request-head-timeout=1s"})
class FrontDoorRequestHeadTimeoutTest extends ScriptedUpstreamBase {

    private static final String SESSION = "slowheadsessionaaaaaaaaaaaaaaaa";
    private static final String SESSION_PATH = "/user/" + SESSION + "/x";

    @Autowired
    ProxyMetrics metrics;

    @Override
    String session() {
        return SESSION;
    }

    @Test
    void aHeadSentALineAtATimeGets408AtTheDeadlineWhileAnotherVisitorIsServedThroughout() throws Exception {
        LoopbackVisitors.answerEverything(upstream);
        long timeoutsBefore = metrics.headTimeouts();
        try (Socket normal = LoopbackVisitors.from("127.0.0.3", port)) {
            InputStream normalIn = LoopbackVisitors.in(normal);
            long start = System.nanoTime();
            try (Socket slow = LoopbackVisitors.from("127.0.0.2", port)) {
                OutputStream out = slow.getOutputStream();
                out.write("GET / HTTP/1.1\r\nHost: ferry.test\r\n".getBytes(StandardCharsets.US_ASCII));
                int served = 0;
                // one header line every 200 ms for up to 5 s; meanwhile the other visitor's requests, portal and
                // session
                for (int line = 0; line < 25 && slow.getInputStream().available() == 0; line++) {
                    try {
                        out.write(("X-Slow-" + line + ": a\r\n").getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException closed) {
                        break;
                    }
                    String path = line % 2 == 0 ? SESSION_PATH : "/";
                    assertThat(LoopbackVisitors.get(normal, normalIn, path).status())
                            .as("GET %s", path)
                            .isEqualTo(200);
                    served++;
                    Thread.sleep(200);
                }
                LoopbackVisitors.Response answer = LoopbackVisitors.read(LoopbackVisitors.in(slow));
                long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(answer.status()).isEqualTo(408);
                assertThat(answer.field("Connection")).isEqualTo("close");
                assertThat(answer.body()).contains("The request's headers did not arrive within 1 second.");
                assertThat(slow.getInputStream().read())
                        .as("then the connection ends")
                        .isEqualTo(-1);
                assertThat(waited).as("answered at the deadline, ms").isBetween(900L, 4_000L);
                assertThat(served)
                        .as("requests of the other visitor served meanwhile")
                        .isPositive();
            }
            assertThat(LoopbackVisitors.get(normal, normalIn, "/").status()).isEqualTo(200);
            assertThat(LoopbackVisitors.get(normal, normalIn, SESSION_PATH).body())
                    .isEqualTo("ok");
        }
        assertThat(metrics.headTimeouts() - timeoutsBefore).isEqualTo(1);
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAtTheDeadline() throws Exception {
        long start = System.nanoTime();
        try (Socket silent = LoopbackVisitors.from("127.0.0.4", port)) {
            assertThat(silent.getInputStream().read())
                    .as("closed without an answer")
                    .isEqualTo(-1);
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(900L, 4_000L);
    }

    @Test
    void aKeptConnectionMayIdlePastTheDeadlineButItsNextHeadMustArriveInTime() throws Exception {
        LoopbackVisitors.answerEverything(upstream);
        try (Socket c = LoopbackVisitors.from("127.0.0.5", port)) {
            InputStream in = LoopbackVisitors.in(c);
            assertThat(LoopbackVisitors.get(c, in, SESSION_PATH).status()).isEqualTo(200);
            Thread.sleep(1_600); // idle, past the head deadline: the keep-alive timeout governs this
            assertThat(LoopbackVisitors.get(c, in, SESSION_PATH).status()).isEqualTo(200);
            OutputStream out = c.getOutputStream();
            out.write(("GET " + SESSION_PATH + " HTTP/1.1\r\n").getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            for (int line = 0; line < 25 && in.available() == 0; line++) {
                try {
                    out.write(("X-Slow-" + line + ": a\r\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException closed) {
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(LoopbackVisitors.read(in).status()).isEqualTo(408);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(800L, 4_000L);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aBodyThatComesSlowlyIsNotCutByTheHeadDeadline() throws Exception {
        CompletableFuture<String> server = upstream.serveOnceReading((in, out) -> {
            ProxyStreamingTest.readHead(in);
            String body = new String(in.readNBytes(10), StandardCharsets.US_ASCII);
            out.write(ScriptedUpstream.OK);
            out.flush();
            return body;
        });
        try (Socket c = LoopbackVisitors.from("127.0.0.6", port)) {
            OutputStream out = c.getOutputStream();
            out.write(("PUT " + SESSION_PATH + " HTTP/1.1\r\nHost: ferry.test\r\nContent-Length: 10\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 10; i++) { // 3 s for the body: the read timeout (10 min) governs it, not the head's
                Thread.sleep(300);
                out.write('0' + i);
                out.flush();
            }
            assertThat(LoopbackVisitors.read(LoopbackVisitors.in(c)).status()).isEqualTo(200);
        }
        assertThat(server.get(10, TimeUnit.SECONDS)).isEqualTo("0123456789");
    }

    @Test
    void aWebSocketTunnelOutlivesTheHeadDeadline() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            InputStream in = new java.io.BufferedInputStream(s.getInputStream());
            ProxyStreamingTest.readHead(in);
            s.getOutputStream().write(ScriptedUpstream.SWITCHING);
            s.getOutputStream().write(in.readNBytes(4)); // echoes the visitor's bytes
            s.getOutputStream().flush();
        });
        try (Socket c = LoopbackVisitors.from("127.0.0.7", port)) {
            ProxyStreamingTest.send(
                    c, "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n" + ScriptedUpstream.UPGRADE);
            InputStream in = LoopbackVisitors.in(c);
            assertThat(ProxyStreamingTest.readHead(in)).startsWith("HTTP/1.1 101");
            Thread.sleep(1_600);
            ProxyStreamingTest.send(c, "ping");
            assertThat(new String(in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aSlowHeadPipelinedBehindARequestEndsTheConnectionAfterTheAnswerUnderWay() throws Exception {
        CompletableFuture<String> server = upstream.serveOnceReading((in, out) -> {
            String head = ProxyStreamingTest.readHead(in);
            try {
                Thread.sleep(2_000); // past the head deadline of the request pipelined behind this one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.write(ScriptedUpstream.OK);
            out.flush();
            return head + ProxyStreamingTest.readHead(in); // (nothing more: the door closes the connection)
        });
        try (Socket c = LoopbackVisitors.from("127.0.0.8", port)) {
            ProxyStreamingTest.send(
                    c,
                    "GET " + SESSION_PATH + " HTTP/1.1\r\nHost: ferry.test\r\n\r\n" + "GET " + SESSION_PATH
                            + "/next HTTP/1.1\r\nHost: ferry.test\r\n");
            InputStream in = LoopbackVisitors.in(c);
            LoopbackVisitors.Response first = LoopbackVisitors.read(in);
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.body()).isEqualTo("ok");
            assertThat(first.field("Connection")).isEqualTo("close");
            assertThat(in.read())
                    .as("then the connection ends, the late head unanswered")
                    .isEqualTo(-1);
        }
        assertThat(server.get(10, TimeUnit.SECONDS)).doesNotContain("/next");
    }
}
