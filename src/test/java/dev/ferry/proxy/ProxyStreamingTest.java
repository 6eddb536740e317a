package dev.ferry.proxy;

import static dev.ferry.proxy.ScriptedUpstream.SWITCHING;
import static dev.ferry.proxy.ScriptedUpstream.UPGRADE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The proxy against a scripted upstream on loopback (no Jupyter in the way): bodies stream in both directions
 * (a proxy that buffered whole bodies would deadlock these tests), WebSocket tunnels carry any amount of bytes and
 * outlive the server's connection timeout and pass pings, pongs and close codes as they are, HEAD answers and chunked
 * bodies keep their framing, large headers and bytes beyond ASCII pass intact, a visitor leaving mid-upload ends the
 * server's request, and unknown sessions are answered at once.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "ferry.platform=local",
            "server.tomcat.connection-timeout=1s",
            "server.tomcat.keep-alive-timeout=1s"
        })
class ProxyStreamingTest extends ScriptedUpstreamBase {

    private static final String SESSION = "stubsessionaaaaaaaaaaaaaaaaaaaaa";

    @Override
    String session() {
        return SESSION;
    }

    @Test
    void uploadReachesTheServerBeforeTheVisitorHasSentItAll() throws Exception {
        int total = 20 * 1024 * 1024;
        CountDownLatch firstMegabyteArrived = new CountDownLatch(1);
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            String head = readHead(in);
            assertThat(head)
                    .startsWith("PUT /user/" + SESSION + "/upload HTTP/1.1")
                    .contains("Content-Length: " + total);
            long received = 0;
            byte[] buffer = new byte[65536];
            while (received < total) {
                int n = in.read(buffer);
                if (n < 0) {
                    throw new IOException("body ended early");
                }
                received += n;
                if (received >= 1024 * 1024) {
                    firstMegabyteArrived.countDown();
                }
            }
            send(s, "HTTP/1.1 204 No Content\r\n\r\n");
        });
        try (Socket c = visitor()) {
            OutputStream out = c.getOutputStream();
            out.write(("PUT /user/" + SESSION + "/upload HTTP/1.1\r\nHost: ferry.test\r\nContent-Length: " + total
                            + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] megabyte = new byte[1024 * 1024];
            out.write(megabyte);
            out.flush();
            assertThat(firstMegabyteArrived.await(10, TimeUnit.SECONDS))
                    .as("the server saw the first megabyte while the visitor still held back the rest")
                    .isTrue();
            for (int i = 1; i < 20; i++) {
                out.write(megabyte);
            }
            out.flush();
            assertThat(readHead(new BufferedInputStream(c.getInputStream()))).startsWith("HTTP/1.1 204");
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void downloadReachesTheVisitorBeforeTheServerHasSentItAll() throws Exception {
        int total = 20 * 1024 * 1024;
        CountDownLatch visitorHasFirstMegabyte = new CountDownLatch(1);
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            try {
                readHead(new BufferedInputStream(s.getInputStream()));
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + total
                                + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] megabyte = new byte[1024 * 1024];
                out.write(megabyte);
                out.flush();
                if (!visitorHasFirstMegabyte.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("the visitor never got the first megabyte");
                }
                for (int i = 1; i < 20; i++) {
                    out.write(megabyte);
                }
                out.flush();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try (Socket c = visitor()) {
            send(c, "GET /user/" + SESSION + "/files/big HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(readHead(in)).startsWith("HTTP/1.1 200").contains("Content-Length: " + total);
            long received = 0;
            byte[] buffer = new byte[65536];
            while (received < total) {
                int n = in.read(buffer);
                assertThat(n).as("body ended early").isPositive();
                received += n;
                if (received >= 1024 * 1024) {
                    visitorHasFirstMegabyte.countDown();
                }
            }
            assertThat(received).isEqualTo(total);
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void webSocketTunnelCarriesSixteenMebibytesBothWaysAndOutlivesTheConnectionTimeout() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            String head = readHead(in);
            assertThat(head)
                    .contains("Upgrade: websocket")
                    .contains("Sec-WebSocket-Protocol: v1.kernel.websocket.jupyter.org")
                    .contains("Host: ferry.test")
                    .contains("X-Forwarded-For: 127.0.0.1");
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                            + "Sec-WebSocket-Protocol: v1.kernel.websocket.jupyter.org\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ScriptedUpstream.echo(in, out);
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "GET /user/" + SESSION + "/api/kernels/k/channels HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v1.kernel.websocket.jupyter.org\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            String head = readHead(in);
            assertThat(head)
                    .startsWith("HTTP/1.1 101")
                    .contains("Sec-WebSocket-Protocol: v1.kernel.websocket.jupyter.org")
                    .contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

            Thread.sleep(3_000); // three times Tomcat's connection timeout, idle

            byte[] payload = new byte[16 * 1024 * 1024];
            new Random(7).nextBytes(payload);
            assertThat(Arrays.equals(ScriptedUpstream.sendAndReceive(c, in, payload, 20), payload))
                    .isTrue();
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void tunnelEndsForTheVisitorWhenTheServerCloses() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            try {
                readHead(new BufferedInputStream(s.getInputStream()));
                send(
                        s,
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
                s.getOutputStream().flush();
                Thread.sleep(500);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\nUpgrade: websocket\r\n"
                            + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(readHead(in)).startsWith("HTTP/1.1 101");
            long t0 = System.nanoTime();
            assertThat(in.read()).as("end of stream once the server closed").isEqualTo(-1);
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void bytesTheServerSendsWithItsSwitchingProtocolsReachTheVisitor() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            readHead(new BufferedInputStream(s.getInputStream()));
            byte[] hello = "first frame".getBytes(StandardCharsets.US_ASCII);
            byte[] both = Arrays.copyOf(SWITCHING, SWITCHING.length + hello.length);
            System.arraycopy(hello, 0, both, SWITCHING.length, hello.length);
            s.getOutputStream().write(both); // one segment: the proxy reads the frame together with the head
            s.getOutputStream().flush();
            s.getInputStream().read();
        });
        try (Socket c = visitor()) {
            send(c, "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n" + UPGRADE);
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(readHead(in)).startsWith("HTTP/1.1 101");
            assertThat(new String(in.readNBytes(11), StandardCharsets.US_ASCII)).isEqualTo("first frame");
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void bytesSentWithTheUpgradeRequestReachTheServerAndTheVisitorClosingEndsTheServerSide() throws Exception {
        CompletableFuture<String> server = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                readHead(in);
                s.getOutputStream().write(SWITCHING);
                s.getOutputStream().flush();
                String frame = new String(in.readNBytes(11), StandardCharsets.US_ASCII);
                s.setSoTimeout(10_000);
                return frame + (in.read() == -1 ? " then end of stream" : " then more bytes");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket c = visitor()) {
            send(c, "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n" + UPGRADE + "first frame");
            assertThat(readHead(new BufferedInputStream(c.getInputStream()))).startsWith("HTTP/1.1 101");
        }
        assertThat(server.get(15, TimeUnit.SECONDS)).isEqualTo("first frame then end of stream");
    }

    @Test
    void aSlowVisitorGetsEveryByteOfAFastServerInOrder() throws Exception {
        byte[] payload = new byte[32 * 1024 * 1024];
        new Random(11).nextBytes(payload);
        CompletableFuture<Void> server = upstream.serveOnce(ScriptedUpstream.upgradeThenSend(payload));
        try (Socket c = visitor()) {
            send(c, "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n" + UPGRADE);
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(readHead(in)).startsWith("HTTP/1.1 101");
            Thread.sleep(500); // let the proxy fill every buffer towards the visitor
            assertThat(Arrays.equals(ScriptedUpstream.readInSmallReads(in, payload.length), payload))
                    .isTrue();
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void idleTunnelsHoldNoThreadOfTheirOwn() throws Exception {
        int tunnels = 50;
        java.util.List<Socket> accepted = new java.util.ArrayList<>();
        // One thread answers every upgrade and keeps the sockets open: the upstream adds no thread per tunnel either.
        CompletableFuture<Void> server = upstream.serveOnce(first -> {
            Socket s = first;
            for (int i = 0; i < tunnels; i++) {
                if (i > 0) {
                    s = upstream.accept();
                    accepted.add(s);
                }
                readHead(new BufferedInputStream(s.getInputStream()));
                s.getOutputStream().write(SWITCHING);
                s.getOutputStream().flush();
            }
            first.getInputStream().read(); // until the visitor closes
        });
        java.util.List<Socket> clients = new java.util.ArrayList<>();
        try {
            Socket c = visitor();
            clients.add(c);
            send(c, "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n" + UPGRADE);
            assertThat(readHead(new BufferedInputStream(c.getInputStream()))).startsWith("HTTP/1.1 101");
            int threadsWithOneTunnel = Thread.activeCount();
            for (int i = 1; i < tunnels; i++) {
                c = visitor();
                clients.add(c);
                send(c, "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n" + UPGRADE);
                assertThat(readHead(new BufferedInputStream(c.getInputStream())))
                        .startsWith("HTTP/1.1 101");
            }
            assertThat(Thread.activeCount() - threadsWithOneTunnel)
                    .as("threads added by %d more open tunnels", tunnels - 1)
                    .isLessThan(10);
        } finally {
            for (Socket c : clients) {
                c.close();
            }
        }
        server.get(10, TimeUnit.SECONDS);
        for (Socket s : accepted) {
            s.close();
        }
    }

    @Test
    void visitorExpectingContinueGetsItBeforeSendingTheBody() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            assertThat(readHead(in)).contains("Content-Length: 5");
            assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
            send(s, "HTTP/1.1 204 No Content\r\n\r\n");
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "PUT /user/" + SESSION + "/api/contents/a.txt HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(readHead(in)).startsWith("HTTP/1.1 100");
            send(c, "hello");
            assertThat(readHead(in)).startsWith("HTTP/1.1 204");
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void serverBreakingOffABodyEndsTheVisitorsConnectionBeforeTheDeclaredLength() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            readHead(new BufferedInputStream(s.getInputStream()));
            send(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(100));
        });
        try (Socket c = visitor()) {
            send(c, "GET /user/" + SESSION + "/files/big HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(readHead(in)).startsWith("HTTP/1.1 200").contains("Content-Length: 1000");
            assertThat(in.readAllBytes())
                    .hasSize(100); // closed after what the server sent, not padded nor left hanging
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void unknownSessionAnswers404AtOnceForHttpAndWebSocket() throws Exception {
        try (Socket c = visitor()) {
            send(
                    c,
                    "GET /user/nosuchsession/api/kernels/x/channels HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
            String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all).startsWith("HTTP/1.1 404").contains("There is no session at this address");
        }
        try (Socket c = visitor()) {
            send(c, "GET /user/nosuchsession/api/status HTTP/1.1\r\nHost: ferry.test\r\nConnection: close\r\n\r\n");
            String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all).startsWith("HTTP/1.1 404").contains("application/json");
        }
    }

    @Test
    void dotSegmentsNeverReachAnotherSession() throws Exception {
        try (Socket c = visitor()) {
            send(
                    c,
                    "GET /user/" + SESSION + "/%2e%2e/othersession/api/status HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Connection: close\r\n\r\n");
            String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all).startsWith("HTTP/1.1 400");
        }
    }

    @Test
    void headAnswersKeepTheirLengthSendNoBodyAndTheConnectionGoesOn() throws Exception {
        serveEach(head -> head.startsWith("HEAD ")
                ? "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter");
        try (Socket c = visitor()) {
            InputStream in = new BufferedInputStream(c.getInputStream());
            OutputStream out = c.getOutputStream();
            out.write(("HEAD /user/" + SESSION + "/files/big HTTP/1.1\r\nHost: ferry.test\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(readHead(in)).startsWith("HTTP/1.1 200").contains("Content-Length: 1000");
            out.write(("GET /user/" + SESSION + "/after HTTP/1.1\r\nHost: ferry.test\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(readHead(in))
                    .as("the next answer follows the HEAD answer, with no body between")
                    .startsWith("HTTP/1.1 200")
                    .contains("Content-Length: 5");
            assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("after");
        }
    }

    @Test
    void largeHeadersWithinTheLimitsPassIntactBothWays() throws Exception {
        // (Tomcat's default limits are 8 KiB of request head and 8 KiB of response head; the front door applies the
        // first)
        String cookie = "c".repeat(7_000);
        String policy = "p".repeat(7_000);
        String[] exchanged = exchange(
                "GET /user/" + SESSION + "/lab HTTP/1.1\r\nHost: ferry.test\r\nCookie: " + cookie
                        + "\r\nConnection: close\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Security-Policy: " + policy + "\r\nContent-Length: 2\r\n\r\nok");
        assertThat(exchanged[0]).contains("\r\nCookie: " + cookie + "\r\n");
        assertThat(exchanged[1])
                .startsWith("HTTP/1.1 200")
                .contains("\r\nContent-Security-Policy: " + policy + "\r\n")
                .endsWith("\r\n\r\nok");
    }

    @Test
    void bytesBeyondAsciiInHeaderValuesReachTheServerAsSent() throws Exception {
        // (RFC 9110 5.5: obs-text in a field value is passed on as it is)
        String sent = "GET /user/" + SESSION + "/api/x HTTP/1.1\r\nHost: ferry.test\r\n"
                + "X-Name: caf\u00c3\u00a9\r\nConnection: close\r\n\r\n"; // "café" in UTF-8, one char per byte
        String[] exchanged = exchange(sent, "HTTP/1.1 204 No Content\r\n\r\n");
        assertThat(exchanged[0]).contains("\r\nX-Name: caf\u00c3\u00a9\r\n");
        assertThat(exchanged[1]).startsWith("HTTP/1.1 204");
    }

    @Test
    void thePortalsCredentialsNeverReachTheSessionButJupytersCookiesDo() throws Exception {
        // what a browser sends to /user/… after its operator logged in to the portal (and had once used HTTP Basic)
        String[] exchanged = exchange(
                "GET /user/" + SESSION + "/tree HTTP/1.1\r\nHost: ferry.test\r\n"
                        + "Authorization: Basic YWRtaW46b3Atc2VjcmV0\r\nProxy-Authorization: Basic eDp5\r\n"
                        + "Cookie: FERRY_ADMIN=adminsession; JSESSIONID=oldsession; _xsrf=abc; FERRY_ADMIN_CSRF=tok; username-x=y; "
                        + "ferry-attendee=seat\r\n"
                        + "Connection: close\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(exchanged[0])
                .startsWith("GET /user/" + SESSION + "/tree HTTP/1.1")
                .doesNotContainIgnoringCase("authorization:")
                .doesNotContain("YWRtaW46b3Atc2VjcmV0")
                .doesNotContain("FERRY_ADMIN")
                .doesNotContain("adminsession")
                .doesNotContain("JSESSIONID")
                .doesNotContain("ferry-attendee")
                .contains("\r\nCookie: _xsrf=abc; username-x=y\r\n");
        assertThat(exchanged[1]).startsWith("HTTP/1.1 200");
    }

    @Test
    void aWebSocketUpgradeCarriesNoPortalCredentialsEither() throws Exception {
        String[] exchanged = exchange(
                "GET /user/" + SESSION + "/api/kernels/k/channels HTTP/1.1\r\nHost: ferry.test\r\n"
                        + "Authorization: Basic YWRtaW46b3Atc2VjcmV0\r\nCookie: FERRY_ADMIN=adminsession; _xsrf=abc\r\n"
                        + UPGRADE,
                new String(SWITCHING, StandardCharsets.ISO_8859_1));
        assertThat(exchanged[0])
                .contains("\r\nUpgrade: websocket\r\n")
                .doesNotContainIgnoringCase("authorization:")
                .doesNotContain("FERRY_ADMIN")
                .contains("\r\nCookie: _xsrf=abc\r\n");
        assertThat(exchanged[1]).startsWith("HTTP/1.1 101");
    }

    @Test
    void jupytersOwnTokenInAuthorizationReachesTheSession() throws Exception {
        // Thebe and @jupyterlab/services authenticate this way
        String[] exchanged = exchange(
                "GET /user/" + SESSION + "/api/contents HTTP/1.1\r\nHost: ferry.test\r\n"
                        + "Authorization: token 0123abcd\r\nCookie: _xsrf=abc\r\nConnection: close\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(exchanged[0])
                .contains("\r\nAuthorization: token 0123abcd\r\n")
                .contains("\r\nCookie: _xsrf=abc\r\n");
    }

    @Test
    void aSessionCannotMakeTheBrowserAskForAPasswordOnThePortalsOrigin() throws Exception {
        String[] exchanged = exchange(
                "GET /user/" + SESSION + "/login HTTP/1.1\r\nHost: ferry.test\r\nConnection: close\r\n\r\n",
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Ferry admin\"\r\nContent-Length: 4\r\n\r\nnope");
        assertThat(exchanged[1])
                .startsWith("HTTP/1.1 401")
                .doesNotContainIgnoringCase("WWW-Authenticate")
                .endsWith("\r\n\r\nnope");
    }

    /**
     * Sends {@code sent} (one char per byte) on a connection that then closes; the server answers {@code answer}.
     * Returns the head the server got and all the visitor got back.
     */
    private String[] exchange(String sent, String answer) throws Exception {
        CompletableFuture<String> server = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                String head = readHead(new BufferedInputStream(s.getInputStream()));
                s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                return head;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket c = visitor()) {
            c.getOutputStream().write(sent.getBytes(StandardCharsets.ISO_8859_1));
            String received = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            return new String[] {server.get(10, TimeUnit.SECONDS), received};
        }
    }

    @Test
    void chunkedBodiesPassBothWaysIntact() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            String head = readHead(in);
            assertThat(head).startsWith("POST /user/" + SESSION + "/api/echo HTTP/1.1");
            assertThat(readBody(in, head)).isEqualTo("hello chunked world");
            s.getOutputStream()
                    .write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    + "7\r\nechoed \r\n13;ext=1\r\nhello chunked world\r\n0\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "POST /user/" + SESSION + "/api/echo HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200");
            // (chunks or a length: Tomcat gives a body that fits its buffer a length, the front door passes the chunks)
            assertThat(readBody(in, head)).isEqualTo("echoed hello chunked world");
        }
        server.get(10, TimeUnit.SECONDS);
    }

    /**
     * A POST on a kept connection that the server closes without answering may have been acted on: the proxy answers
     * 502 and does not send it again (a GET would be; RFC 9110 9.2.2).
     */
    @Test
    void aPostTheServerClosedOnWithoutAnsweringIsNotSentAgain() throws Exception {
        java.util.List<String> heads = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
        serveEach(
                (connection, head) -> {
                    heads.add(head);
                    // the first connection's second request is read, then the connection closes unanswered
                    return connection == 1 && heads.size() == 2
                            ? null
                            : new String(ScriptedUpstream.OK, StandardCharsets.US_ASCII);
                },
                connections);
        try (Socket c = visitor()) {
            InputStream in = new BufferedInputStream(c.getInputStream());
            send(c, "GET /user/" + SESSION + "/first HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            assertThat(readHead(in)).startsWith("HTTP/1.1 200");
            assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("ok");
            send(
                    c,
                    "POST /user/" + SESSION + "/api/kernels/k/restart HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Content-Length: 0\r\n\r\n");
            assertThat(readHead(in)).startsWith("HTTP/1.1 502");
        }
        assertThat(heads)
                .filteredOn(h -> h.startsWith("POST "))
                .as("POSTs the server read")
                .hasSize(1);
    }

    /**
     * A chunked upload whose chunks stop making sense part-way never reaches the server as a whole request: its
     * connection ends before the last chunk, and the visitor hears that its body could not be read.
     */
    @Test
    void anUploadWithBrokenChunksNeverReachesTheServerAsWhole() throws Exception {
        CompletableFuture<String> received = upstream.serveOnceReading((in, out) ->
                readHead(in) + new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)); // until it closes
        try (Socket c = visitor()) {
            send(
                    c,
                    "PUT /user/" + SESSION + "/api/contents/a.txt HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            c.getOutputStream().flush();
            Thread.sleep(200); // the first chunk goes on
            send(c, "zz\r\nmore\r\n0\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            String answer = readHead(in);
            assertThat(answer).as("the visitor's answer").matches("(?s)HTTP/1\\.1 (400|500) .*");
        }
        String atServer = received.get(10, TimeUnit.SECONDS);
        assertThat(atServer).startsWith("PUT ").doesNotContain("\r\n0\r\n\r\n").doesNotContain("more");
    }

    /** A visitor's trailer fields do not reach the server: one saying X-Forwarded-For could be taken for the head's. */
    @Test
    void aVisitorsTrailerFieldsDoNotReachTheServer() throws Exception {
        CompletableFuture<String> received = upstream.serveOnceReading((in, out) -> {
            String head = readHead(in);
            StringBuilder rest = new StringBuilder();
            while (!rest.toString().endsWith("0\r\n\r\n")) { // the last chunk and the end of its (empty) trailers
                int b = in.read();
                if (b < 0) {
                    break;
                }
                rest.append((char) b);
            }
            out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return head + rest;
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "PUT /user/" + SESSION + "/api/contents/a.txt HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Forwarded-For: 10.9.9.9\r\n"
                            + "X-Trailing: t\r\n\r\n");
            assertThat(readHead(new BufferedInputStream(c.getInputStream()))).startsWith("HTTP/1.1 204");
        }
        assertThat(received.get(10, TimeUnit.SECONDS))
                .contains("hello")
                .doesNotContain("10.9.9.9")
                .doesNotContain("X-Trailing");
    }

    /** An upgrade request with a body is an ordinary request: its body reaches the server as one, and so does the answer. */
    @Test
    void anUpgradeRequestWithABodyGoesOnAsAPlainRequest() throws Exception {
        CompletableFuture<String> received = upstream.serveOnceReading((in, out) -> {
            String head = readHead(in);
            String body = readBody(in, head);
            out.write(ScriptedUpstream.OK);
            return head + body;
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n"
                            + UPGRADE.replace("\r\n\r\n", "\r\nContent-Length: 10\r\n\r\n") + "0123456789");
            assertThat(readHead(new BufferedInputStream(c.getInputStream()))).startsWith("HTTP/1.1 200");
        }
        assertThat(received.get(10, TimeUnit.SECONDS)).endsWith("0123456789");
    }

    /** A request that cannot be read behind one with a body: the first still goes whole and is answered, then the end. */
    @Test
    void anUnreadableRequestBehindAnUploadLeavesTheUploadWhole() throws Exception {
        CompletableFuture<String> received = upstream.serveOnceReading((in, out) -> {
            String body = readBody(in, readHead(in));
            out.write(ScriptedUpstream.OK);
            return body;
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "POST /user/" + SESSION + "/api/contents HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Content-Length: 5\r\n\r\nhelloGET /user/" + SESSION
                            + "/x HTTP/1.1\r\nBad Header: x\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(readHead(in)).startsWith("HTTP/1.1 200");
            assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("ok");
        }
        assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo("hello");
    }

    @Test
    void aVisitorLeavingMidUploadEndsTheServersRequest() throws Exception {
        int total = 10 * 1024 * 1024;
        CountDownLatch uploading = new CountDownLatch(1);
        CompletableFuture<Long> server = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                s.setSoTimeout(10_000); // a request left open fails the test with a read timeout
                InputStream in = new BufferedInputStream(s.getInputStream());
                readHead(in);
                long received = 0;
                byte[] buffer = new byte[65536];
                try {
                    int n;
                    while ((n = in.read(buffer)) != -1) {
                        received += n;
                        if (received >= 1024 * 1024) {
                            uploading.countDown();
                        }
                    }
                } catch (java.net.SocketException reset) {
                    // a reset ends the request as well as a close does
                }
                return received;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket c = visitor()) {
            send(
                    c,
                    "PUT /user/" + SESSION + "/api/contents/big HTTP/1.1\r\nHost: ferry.test\r\n" + "Content-Length: "
                            + total + "\r\n\r\n");
            c.getOutputStream().write(new byte[2 * 1024 * 1024]);
            c.getOutputStream().flush();
            assertThat(uploading.await(10, TimeUnit.SECONDS))
                    .as("the upload reached the server")
                    .isTrue();
        } // the visitor goes with 8 MiB unsent
        assertThat(server.get(15, TimeUnit.SECONDS))
                .as("bytes the server got before its request ended")
                .isLessThan(total);
    }

    @Test
    void pingsPongsAndCloseCodesPassThroughAWebSocket() throws Exception {
        CompletableFuture<List<String>> server = CompletableFuture.supplyAsync(() -> {
            List<String> seen = new java.util.ArrayList<>();
            try (Socket s = upstream.accept()) {
                s.setSoTimeout(10_000);
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                out.write(ScriptedUpstream.switchingFor(readHead(in)));
                ScriptedUpstream.writeFrame(out, 0x9, "server ping".getBytes(StandardCharsets.UTF_8));
                while (true) {
                    ScriptedUpstream.Frame frame = ScriptedUpstream.readFrame(in, 1024);
                    if (frame.opcode() == 0x9) {
                        seen.add("ping " + new String(frame.payload(), StandardCharsets.UTF_8));
                        ScriptedUpstream.writeFrame(out, 0xA, frame.payload());
                    } else if (frame.opcode() == 0xA) {
                        seen.add("pong " + new String(frame.payload(), StandardCharsets.UTF_8));
                    } else if (frame.opcode() == 0x8) {
                        seen.add("close " + frame.closeCode() + " " + frame.closeReason());
                        ScriptedUpstream.writeFrame(out, 0x8, frame.payload());
                        return seen;
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        CompletableFuture<String> pinged = new CompletableFuture<>();
        CompletableFuture<String> ponged = new CompletableFuture<>();
        CompletableFuture<String> closed = new CompletableFuture<>();
        java.net.http.WebSocket ws = webSocket(new java.net.http.WebSocket.Listener() {
            @Override
            public java.util.concurrent.CompletionStage<?> onPing(
                    java.net.http.WebSocket w, java.nio.ByteBuffer message) {
                pinged.complete(StandardCharsets.UTF_8.decode(message).toString());
                w.request(1);
                return null;
            }

            @Override
            public java.util.concurrent.CompletionStage<?> onPong(
                    java.net.http.WebSocket w, java.nio.ByteBuffer message) {
                ponged.complete(StandardCharsets.UTF_8.decode(message).toString());
                w.request(1);
                return null;
            }

            @Override
            public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket w, int code, String reason) {
                closed.complete(code + " " + reason);
                return null;
            }
        });
        assertThat(pinged.get(10, TimeUnit.SECONDS)).isEqualTo("server ping");
        ws.sendPing(java.nio.ByteBuffer.wrap("visitor ping".getBytes(StandardCharsets.UTF_8)))
                .get(10, TimeUnit.SECONDS);
        assertThat(ponged.get(10, TimeUnit.SECONDS)).isEqualTo("visitor ping");
        ws.sendClose(4000, "visitor leaves").get(10, TimeUnit.SECONDS);
        assertThat(closed.get(10, TimeUnit.SECONDS))
                .as("the server's answering close")
                .isEqualTo("4000 visitor leaves");
        assertThat(server.get(10, TimeUnit.SECONDS))
                .containsExactly("pong server ping", "ping visitor ping", "close 4000 visitor leaves");
    }

    @Test
    void aFrameLargerThanTheServersLimitEndsWithTheServersCloseCodeAndReason() throws Exception {
        int limit = 1024 * 1024;
        CompletableFuture<Long> server = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                s.setSoTimeout(10_000);
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                out.write(ScriptedUpstream.switchingFor(readHead(in)));
                out.flush();
                ScriptedUpstream.Frame frame = ScriptedUpstream.readFrame(in, limit);
                ScriptedUpstream.writeFrame(out, 0x8, ScriptedUpstream.closePayload(1009, "message too big"));
                in.transferTo(
                        java.io.OutputStream.nullOutputStream()); // the rest, until the proxy closes the connection
                return frame.length();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        CompletableFuture<String> closed = new CompletableFuture<>();
        java.net.http.WebSocket ws = webSocket(new java.net.http.WebSocket.Listener() {
            @Override
            public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket w, int code, String reason) {
                closed.complete(code + " " + reason);
                return null;
            }
        });
        ws.sendBinary(java.nio.ByteBuffer.allocate(2 * limit), true);
        assertThat(closed.get(15, TimeUnit.SECONDS)).isEqualTo("1009 message too big");
        assertThat(server.get(15, TimeUnit.SECONDS))
                .as("the frame length the server saw")
                .isEqualTo(2L * limit);
    }

    private java.net.http.WebSocket webSocket(java.net.http.WebSocket.Listener listener) throws Exception {
        return java.net.http.HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .buildAsync(java.net.URI.create("ws://127.0.0.1:" + port + "/user/" + SESSION + "/ws"), listener)
                .get(10, TimeUnit.SECONDS);
    }

    /** Answers every request head on every connection the proxy opens, until the test ends (no request bodies). */
    private void serveEach(java.util.function.Function<String, String> answer) {
        serveEach((connection, head) -> answer.apply(head), new java.util.concurrent.atomic.AtomicInteger());
    }

    /**
     * The same, with the connection's number (from 1, counted in {@code connections}) given to {@code answer}; a null
     * answer closes that connection without one.
     */
    private void serveEach(
            java.util.function.BiFunction<Integer, String, String> answer,
            java.util.concurrent.atomic.AtomicInteger connections) {
        upstream.acceptEach(connections, (number, s) -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            String head;
            while (!(head = readHead(in)).isEmpty()) {
                String reply = answer.apply(number, head);
                if (reply == null) {
                    return;
                }
                s.getOutputStream().write(reply.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            }
        });
    }

    /** A message body after {@code head}: chunked (decoded) or of the length the head gives. */
    static String readBody(InputStream in, String head) throws IOException {
        String lower = head.toLowerCase(java.util.Locale.ROOT);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (lower.contains("transfer-encoding: chunked")) {
            while (true) {
                String sizeLine = readLine(in);
                int semicolon = sizeLine.indexOf(';');
                int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
                if (size == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailers
                    }
                    return body.toString(StandardCharsets.UTF_8);
                }
                body.write(in.readNBytes(size));
                assertThat(readLine(in)).as("the end of a chunk").isEmpty();
            }
        }
        java.util.regex.Matcher length =
                java.util.regex.Pattern.compile("content-length: *(\\d+)").matcher(lower);
        assertThat(length.find()).as("a length or chunks in %s", head).isTrue();
        return new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.UTF_8);
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new java.io.EOFException("the body ended early");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    /** Writes {@code text} (an HTTP head, maybe with a body) to the socket as the ASCII bytes HTTP/1.1 carries. */
    static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4 && (b = in.read()) != -1) {
            head.write(b);
            matched = (b == '\r' || b == '\n')
                    ? (((matched % 2 == 0) == (b == '\r')) ? matched + 1 : (b == '\r' ? 1 : 0))
                    : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
