package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The front door ({@link FrontDoor}): what it relays itself, what it hands to the portal behind it, and that the
 * portal still learns who the visitor is — and only from the front door.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "ferry.platform=local",
            "server.tomcat.keep-alive-timeout=1s",
            "ferry.proxy.read-timeout=2s",
            "ferry.trusted-proxies=127.0.0.3",
            "ferry.proxy.connect-timeout=30s"
        }) // (a name lookup gets as long: the slow-lookup test must end before it)
class FrontDoorTest extends ScriptedUpstreamBase {

    private static final String SESSION = "frontdoorsessionaaaaaaaaaaaaaaaa";

    @Autowired
    FrontDoor door;

    private final AtomicInteger connections = new AtomicInteger();
    private final List<String> heads = new CopyOnWriteArrayList<>();

    @Override
    String session() {
        return SESSION;
    }

    private void serve(boolean hangUpFirst) {
        serve((connection, request) -> hangUpFirst && connection == 1);
    }

    /**
     * A keep-alive server answering each request with its path (a 304 without a length for paths ending in
     * {@code /not-modified}, a chunked body for {@code /chunked}, a head no proxy may pass on for {@code /garbled}, part
     * of a head and then the connection's end for {@code /half-head}); {@code hangUp} (connection and request number, from
     * 1) says which requests it reads and then closes the connection on, unanswered.
     */
    private void serve(java.util.function.BiPredicate<Integer, Integer> hangUp) {
        upstream.acceptEach(connections, (n, s) -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int r = 1; ; r++) {
                String head = ProxyStreamingTest.readHead(in);
                if (head.isEmpty()) {
                    return;
                }
                heads.add(head);
                if (hangUp.test(n, r)) {
                    return;
                }
                String path = head.substring(head.indexOf(' ') + 1, head.indexOf(" HTTP/"));
                String answer;
                if (path.endsWith("/garbled")) {
                    answer = "HTTP/1.1 200 OK\r\nNot A Name: x\r\n\r\n";
                } else if (path.endsWith("/half-head")) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Le".getBytes(StandardCharsets.US_ASCII));
                    return; // and the connection closes
                } else if (path.endsWith("/not-modified")) {
                    answer = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n";
                } else if (path.endsWith("/chunked")) {
                    answer =
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
                } else {
                    answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + path.length()
                            + "\r\n\r\n" + path;
                }
                out.write(answer.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        });
    }

    private Socket visitorFrom(String address) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(address, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port));
        s.setSoTimeout(10_000);
        return s;
    }

    /** One response, its body read by its length or its chunks (the connection stays usable for the next). */
    private static String response(InputStream in) throws IOException {
        String head = ProxyStreamingTest.readHead(in);
        String lower = head.toLowerCase(java.util.Locale.ROOT);
        int at = lower.indexOf("content-length:");
        if (at > 0) {
            int length = Integer.parseInt(
                    head.substring(at + 15, head.indexOf('\r', at)).trim());
            return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
        }
        assertThat(lower).as("a response with a length or chunks: %s", head).contains("transfer-encoding: chunked");
        StringBuilder body = new StringBuilder(head);
        while (true) {
            String size = line(in);
            int n = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (n == 0) {
                while (!line(in).isEmpty()) {
                    // trailers
                }
                return body.toString();
            }
            body.append(new String(in.readNBytes(n), StandardCharsets.UTF_8));
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    @Autowired
    ProxyMetrics metrics;

    /**
     * A visitor that does not read a 64 MiB download costs the buffer pool a window, not the body: the front door stops
     * reading the server while the visitor has more than its high-water mark waiting. The pool's size is published.
     */
    @Test
    void aVisitorThatDoesNotReadALargeDownloadCostsTheBufferPoolAWindowNotTheBody() throws Exception {
        int total = 64 * 1024 * 1024;
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            try {
                ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + total + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] megabyte = new byte[1024 * 1024];
                for (int i = 0; i < 64; i++) {
                    out.write(megabyte); // as fast as the proxy takes it
                }
                out.flush();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        long before = metrics.bufferMemory();
        long peak = before;
        try (Socket c = visitorFrom("127.0.0.1")) {
            c.setReceiveBufferSize(64 * 1024);
            ProxyStreamingTest.send(c, "GET /user/" + SESSION + "/files/big HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            for (int i = 0; i < 10; i++) { // 1 s of not reading (the server could send it all in a tenth of that),
                // shorter than the read timeout after which a visitor that takes nothing is let go
                Thread.sleep(100);
                peak = Math.max(peak, metrics.bufferMemory());
            }
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(ProxyStreamingTest.readHead(in)).startsWith("HTTP/1.1 200");
            byte[] megabyte = new byte[1024 * 1024];
            for (int i = 0; i < total / megabyte.length; i++) {
                assertThat(in.readNBytes(megabyte, 0, megabyte.length))
                        .as("body ended early")
                        .isEqualTo(megabyte.length);
                peak = Math.max(peak, metrics.bufferMemory());
            }
        }
        server.get(10, TimeUnit.SECONDS);
        assertThat(peak - before)
                .as("growth of the buffer pool while 64 MiB passed")
                .isLessThan(16L * 1024 * 1024);

        java.net.http.HttpResponse<String> scraped = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(
                                        java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(scraped.body()).containsPattern("(?m)^ferry_proxy_buffer_memory_bytes [0-9.E+]+$");
    }

    /**
     * Behind a trusted proxy that adds an X-Forwarded-For line of its own, the session sees the address that proxy
     * saw, not the one the visitor wrote in the first line.
     */
    @Test
    void behindATrustedProxyEveryForwardedForLineCounts() throws Exception {
        serve(false);
        try (Socket c = visitorFrom("127.0.0.3")) {
            ProxyStreamingTest.send(
                    c,
                    "GET /user/" + SESSION + "/who HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\n"
                            + "X-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\n\r\n");
            assertThat(response(new BufferedInputStream(c.getInputStream()))).startsWith("HTTP/1.1 200");
        }
        assertThat(heads).hasSize(1);
        assertThat(heads.get(0))
                .contains("X-Forwarded-For: 198.51.100.7\r\n")
                .contains("X-Real-IP: 198.51.100.7\r\n")
                .contains("X-Forwarded-Proto: http\r\n")
                .doesNotContain("203.0.113.9");
    }

    @Test
    void theSessionAndThePortalSeeTheVisitorsAddressAndNoOneCanChooseIt() throws Exception {
        // The kept connection is closed by the server on the second request, unanswered: the front door sends that
        // request once more, on a new connection, written afresh from the same visitor.
        serve((connection, request) -> connection == 1 && request == 2);
        try (Socket c = visitorFrom("127.0.0.2")) {
            InputStream in = new BufferedInputStream(c.getInputStream());
            for (String path : List.of("/first", "/api/status")) {
                ProxyStreamingTest.send(
                        c,
                        "GET /user/" + SESSION + path + " HTTP/1.1\r\nHost: ferry.test\r\n"
                                + "X-Ferry-Peer: guessed 10.1.2.3\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n");
                assertThat(response(in)).startsWith("HTTP/1.1 200").endsWith("/user/" + SESSION + path);
            }
        }
        assertThat(connections.get())
                .as("the first connection, then the retry's")
                .isEqualTo(2);
        assertThat(heads)
                .hasSize(3)
                .allSatisfy(head -> assertThat(head)
                        .contains("X-Forwarded-For: 127.0.0.2")
                        .doesNotContainIgnoringCase("x-ferry-peer")
                        .doesNotContain("10.1.2.3")
                        .doesNotContain("10.9.9.9"));
    }

    @Test
    void aSessionTheTableDoesNotHoldIsAskedOfThePlatformOffTheEventLoopAndServed() throws Exception {
        serve(false);
        String other = "resolvedsessionaaaaaaaaaaaaaaaaa";
        Route scripted = routes.held(SESSION);
        List<String> askedOn = new CopyOnWriteArrayList<>();
        routes.setResolver(id -> {
            askedOn.add(Thread.currentThread().getName());
            if (!id.equals(other)) {
                return null;
            }
            Route route = new Route(other, scripted.host(), scripted.port());
            routes.add(route);
            return route;
        });
        try (Socket c = visitorFrom("127.0.0.1")) {
            InputStream in = LoopbackVisitors.in(c);
            assertThat(LoopbackVisitors.get(c, in, "/user/" + other + "/x").body())
                    .isEqualTo("/user/" + other + "/x");
            LoopbackVisitors.Response unknown = LoopbackVisitors.get(c, in, "/user/" + "b".repeat(32) + "/api/status");
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.body()).contains("There is no session at this address.");
        } finally {
            routes.setResolver(null);
            routes.remove(other, "the test ended.");
        }
        assertThat(askedOn).hasSize(2).noneMatch(thread -> thread.startsWith("ferry-front-door"));
    }

    @Test
    void anEndedSessionsAddressAnswersBrowsersWithAPageAndScriptsWithASentence() throws Exception {
        String ended = "endedsessionaaaaaaaaaaaaaaaaaaaa";
        routes.add(new Route(ended, "127.0.0.1", 9));
        routes.remove(ended, "it was idle for more than 10 minutes.", "/v2/gh/org/repo/HEAD");
        try (Socket c = visitorFrom("127.0.0.1")) {
            InputStream in = LoopbackVisitors.in(c);
            ProxyStreamingTest.send(
                    c,
                    "GET /user/" + ended + "/tree HTTP/1.1\r\nHost: ferry.test\r\n" + "Accept: text/html,*/*\r\n\r\n");
            LoopbackVisitors.Response page = LoopbackVisitors.read(in);
            assertThat(page.status()).isEqualTo(404);
            assertThat(page.field("Content-Type")).startsWith("text/html");
            assertThat(page.field("Cache-Control")).isEqualTo("no-store");
            assertThat(page.body())
                    .contains(
                            "This session has ended",
                            "It ended because it was idle for more than 10 minutes.",
                            "id=\"relaunch\" href=\"/v2/gh/org/repo/HEAD\"");
            LoopbackVisitors.Response api = LoopbackVisitors.get(c, in, "/user/" + ended + "/api/contents");
            assertThat(api.status()).isEqualTo(404);
            assertThat(api.field("Content-Type")).startsWith("application/json");
            assertThat(api.body())
                    .isEqualTo("{\"message\":\"This session has ended: it was idle for more than 10 minutes. "
                            + "Launch the repository again to get a new one.\"}");
        }
        try (Socket c = visitorFrom("127.0.0.1")) {
            ProxyStreamingTest.send(
                    c,
                    "GET /user/" + ended + "/api/kernels/k/channels HTTP/1.1\r\nHost: ferry.test\r\n"
                            + ScriptedUpstream.UPGRADE);
            // (readAllBytes: the answer, then the connection's end)
            String upgrade = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(upgrade).startsWith("HTTP/1.1 404").contains("This session has ended");
        }
    }

    /**
     * A server that answers before it has read the request's body (a refusal of an upload), the visitor asking to
     * close: the visitor gets the whole answer and a clean end, not a reset that destroys the answer because the door
     * closed with the rest of the body unread.
     */
    @Test
    void anAnswerGivenBeforeTheBodyWasReadReachesTheVisitorWhoseUploadGoesOn() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            ProxyStreamingTest.readHead(in);
            s.getOutputStream()
                    .write(("HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
                                    + "too large")
                            .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            in.transferTo(OutputStream.nullOutputStream()); // what the door still relays, until it ends
        });
        int size = 8 * 1024 * 1024;
        try (Socket c = visitorFrom("127.0.0.1")) {
            ProxyStreamingTest.send(
                    c,
                    "PUT /user/" + SESSION + "/api/contents/big.bin HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Connection: close\r\nContent-Length: " + size + "\r\n\r\n");
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = c.getOutputStream();
                    byte[] chunk = new byte[64 * 1024];
                    for (int sent = 0; sent < size; sent += chunk.length) {
                        out.write(chunk);
                    }
                } catch (IOException e) {
                    // the door may end the connection before all of it went: what is asserted is the answer
                }
            });
            String answer = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 413").endsWith("too large");
            upload.get(30, TimeUnit.SECONDS);
        }
        server.get(15, TimeUnit.SECONDS);
    }

    @Test
    void aRequestTheServerTookAndDroppedOnAFreshConnectionIsNotSentAgain() throws Exception {
        serve(true); // the server reads the request, then closes: it may have acted on it
        try (Socket c = visitorFrom("127.0.0.1")) {
            ProxyStreamingTest.send(
                    c,
                    "POST /user/" + SESSION + "/api/kernels/k/restart HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Content-Length: 0\r\n\r\n");
            String answer = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 502").contains("did not answer properly");
        }
        assertThat(heads).as("the restart reached the server once").hasSize(1);
    }

    @Test
    void anUnreadableAnswerOnAKeptConnectionIs502AndTheRequestIsNotSentAgain() throws Exception {
        serve(false);
        for (String path : List.of("/garbled", "/half-head")) {
            heads.clear();
            try (Socket c = visitorFrom("127.0.0.1")) {
                InputStream in = new BufferedInputStream(c.getInputStream());
                ProxyStreamingTest.send(c, "GET /user/" + SESSION + "/first HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
                assertThat(response(in)).endsWith("/first");
                ProxyStreamingTest.send(
                        c,
                        "POST /user/" + SESSION + "/api/kernels/k/restart" + path + " HTTP/1.1\r\n"
                                + "Host: ferry.test\r\nContent-Length: 0\r\n\r\n");
                String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(answer).as(path).startsWith("HTTP/1.1 502").contains("did not answer properly");
            }
            // (the server answered, badly: it may have acted on the request, which must not reach it twice)
            assertThat(heads)
                    .as("%s: the first request and the restart, each once", path)
                    .hasSize(2);
        }
    }

    @Test
    void bytesBeyondAsciiInAQueryReachTheServerAsSent() throws Exception {
        // (Tomcat refuses such a request with 400; the front door relays it, and must not re-encode it)
        serve(false);
        try (Socket c = visitorFrom("127.0.0.1")) {
            c.getOutputStream()
                    .write(("GET /user/" + SESSION + "/api/x?name=caf\u00c3\u00a9 HTTP/1.1\r\nHost: ferry.test\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1)); // "café" in UTF-8, one char per byte
            assertThat(response(new BufferedInputStream(c.getInputStream()))).startsWith("HTTP/1.1 200");
        }
        assertThat(heads)
                .singleElement()
                .asString()
                .startsWith("GET /user/" + SESSION + "/api/x?name=caf\u00c3\u00a9 HTTP/1.1\r\n");
    }

    @Test
    void aConnectionHeaderCannotTakeAwayTheBodysLength() throws Exception {
        String smuggled = "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n";
        CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                String head = ProxyStreamingTest.readHead(in);
                String body = new String(in.readNBytes(smuggled.length()), StandardCharsets.US_ASCII);
                s.getOutputStream()
                        .write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(1_000);
                try {
                    return head + body + (in.read() == -1 ? "" : " and more");
                } catch (SocketTimeoutException e) {
                    return head + body;
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket c = visitorFrom("127.0.0.1")) {
            ProxyStreamingTest.send(
                    c,
                    "POST /user/" + SESSION + "/api/x HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Connection: keep-alive, Content-Length\r\nContent-Length: " + smuggled.length()
                            + "\r\n\r\n" + smuggled);
            assertThat(response(new BufferedInputStream(c.getInputStream())))
                    .startsWith("HTTP/1.1 200")
                    .endsWith("ok");
        }
        // the body arrives as the body, framed, and nothing follows it that the server could read as a request
        assertThat(seen.get(10, TimeUnit.SECONDS))
                .containsIgnoringCase("content-length: " + smuggled.length())
                .endsWith(smuggled);
    }

    @Test
    void notModifiedKeepsTheConnectionAndHttp10VisitorsGetNoChunks() throws Exception {
        serve(false);
        try (Socket c = visitorFrom("127.0.0.1")) {
            InputStream in = new BufferedInputStream(c.getInputStream());
            ProxyStreamingTest.send(
                    c, "GET /user/" + SESSION + "/static/not-modified HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            assertThat(ProxyStreamingTest.readHead(in))
                    .startsWith("HTTP/1.1 304")
                    .doesNotContainIgnoringCase("connection: close");
            ProxyStreamingTest.send(c, "GET /user/" + SESSION + "/after HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            assertThat(response(in)).endsWith("/after");
        }
        try (Socket c = visitorFrom("127.0.0.1")) {
            ProxyStreamingTest.send(c, "GET /user/" + SESSION + "/chunked HTTP/1.0\r\nHost: ferry.test\r\n\r\n");
            String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(all)
                    .startsWith("HTTP/1.1 200")
                    .doesNotContainIgnoringCase("chunked")
                    .endsWith("\r\n\r\nhello world");
        }
    }

    @Test
    void oneConnectionCarriesSessionAndPortalRequestsInTurnAndKeepsItsServerConnection() throws Exception {
        serve(false);
        try (Socket c = visitorFrom("127.0.0.1")) {
            InputStream in = new BufferedInputStream(c.getInputStream());
            OutputStream out = c.getOutputStream();
            for (String path : List.of(
                    "/user/" + SESSION + "/a", "/user/" + SESSION + "/b", "/health", "/user/" + SESSION + "/c")) {
                out.write(
                        ("GET " + path + " HTTP/1.1\r\nHost: ferry.test\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String answer = response(in);
                assertThat(answer).as(path).startsWith("HTTP/1.1 200");
                if (path.startsWith("/user/")) {
                    assertThat(answer).endsWith(path);
                } else {
                    assertThat(answer).contains("\"ok\":true");
                }
            }
        }
        assertThat(connections.get())
                .as("a and b on one server connection, c on a new one after the portal's turn")
                .isEqualTo(2);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        serve(false);
        try (Socket c = visitorFrom("127.0.0.1")) {
            StringBuilder requests = new StringBuilder();
            for (String path : List.of("/user/" + SESSION + "/one", "/health", "/user/" + SESSION + "/two")) {
                requests.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            }
            c.getOutputStream().write(requests.toString().getBytes(StandardCharsets.US_ASCII));
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(response(in)).endsWith("/user/" + SESSION + "/one");
            assertThat(response(in)).contains("\"ok\":true");
            assertThat(response(in)).endsWith("/user/" + SESSION + "/two");
        }
    }

    @Test
    void oversizedHeadersAreRefusedWith431AndTheConnectionCloses() throws Exception {
        try (Socket c = visitorFrom("127.0.0.1")) {
            ProxyStreamingTest.send(
                    c,
                    "GET /user/" + SESSION + "/api HTTP/1.1\r\nHost: ferry.test\r\nCookie: " + "x".repeat(20_000)
                            + "\r\n\r\n");
            String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all).startsWith("HTTP/1.1 431").contains("too long");
        }
        assertThat(connections.get()).isZero();
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAfterTheKeepAliveTimeout() throws Exception {
        serve(false);
        try (Socket c = visitorFrom("127.0.0.1")) {
            ProxyStreamingTest.send(c, "GET /user/" + SESSION + "/x HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            InputStream in = new BufferedInputStream(c.getInputStream());
            assertThat(response(in)).startsWith("HTTP/1.1 200");
            long start = System.nanoTime();
            try {
                assertThat(in.read()).as("end of stream").isEqualTo(-1);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the idle connection was still open after 10 s", e);
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(500L, 5_000L);
        }
    }

    @Test
    void aVisitorThatStopsTakingADownloadIsDisconnectedAfterTheReadTimeout() throws Exception {
        int size = 256 * 1024 * 1024;
        CompletableFuture<Boolean> serverCutOff = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[64 * 1024];
                for (int sent = 0; sent < size; sent += chunk.length) {
                    out.write(chunk);
                }
                return false;
            } catch (IOException e) {
                return true; // the front door closed the server's side
            }
        });
        try (Socket c = visitorFrom("127.0.0.1")) {
            c.setReceiveBufferSize(64 * 1024);
            ProxyStreamingTest.send(c, "GET /user/" + SESSION + "/big HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            Thread.sleep(6_000); // not reading: read timeout 2 s, checked at each 1 s keep-alive tick
            long received = c.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            assertThat(received).as("the stream ended before the whole body").isLessThan(size);
        }
        assertThat(serverCutOff.get(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aServerThatNeverAnswersIsNotWaitedForByOtherVisitors() throws Exception {
        // one connection stalls (the server reads and says nothing); another visitor of the same session is served
        CompletableFuture<Socket> stalled = CompletableFuture.supplyAsync(() -> {
            try {
                Socket s = upstream.accept();
                ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
                return s;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket slow = visitorFrom("127.0.0.1")) {
            slow.getOutputStream()
                    .write(("GET /user/" + SESSION + "/slow HTTP/1.1\r\nHost: ferry.test\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            Socket upstreamOfSlow = stalled.get(10, TimeUnit.SECONDS);
            serve(false);
            try (Socket quick = visitorFrom("127.0.0.1")) {
                quick.getOutputStream()
                        .write(("GET /user/" + SESSION + "/quick HTTP/1.1\r\nHost: ferry.test\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                assertThat(response(new BufferedInputStream(quick.getInputStream())))
                        .endsWith("/quick");
            }
            upstreamOfSlow.close();
        }
    }

    @Test
    void aStaticRouteWhoseHostNameIsSlowToLookUpHoldsUpNoOtherSession() throws Exception {
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();
        door.resolver().lookup(host -> {
            lookups.incrementAndGet();
            answer.await(); // a name server that does not answer (until the test ends)
            throw new java.net.UnknownHostException(host);
        });
        routes.add(new Route("slowname", "upstream.slow.test", 80));
        List<Socket> waiting = new java.util.ArrayList<>();
        try {
            // Two connections per event loop wait for the name: when lookups ran on the loops, every loop was stuck.
            for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors(); i++) {
                Socket s = visitorFrom("127.0.0.1");
                waiting.add(s);
                s.getOutputStream()
                        .write("GET /user/slowname/x HTTP/1.1\r\nHost: ferry.test\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
            }
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> lookups.get() >= 1);
            serve(false);
            long start = System.nanoTime();
            try (Socket quick = visitorFrom("127.0.0.1")) {
                quick.setSoTimeout(3_000);
                quick.getOutputStream()
                        .write(("GET /user/" + SESSION + "/quick HTTP/1.1\r\nHost: ferry.test\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                assertThat(response(new BufferedInputStream(quick.getInputStream())))
                        .endsWith("/quick");
            }
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start))
                    .isLessThan(java.time.Duration.ofSeconds(3));
            for (Socket s : waiting) { // still waiting for their name: neither answered nor closed
                s.setSoTimeout(200);
                org.assertj.core.api.Assertions.assertThatThrownBy(
                                () -> s.getInputStream().read())
                        .isInstanceOf(SocketTimeoutException.class);
            }
        } finally {
            routes.remove(
                    "slowname", "the test is over"); // first: the portal, where the waiting requests go, finds no route
            answer.countDown();
            door.resolver().lookup(java.net.InetAddress::getAllByName);
            for (Socket s : waiting) {
                s.close();
            }
        }
    }

    @Test
    void aStaticRouteNamingAHostIsServedOnceTheNameIsLookedUp() throws Exception {
        serve(false);
        routes.add(new Route("byname", "localhost", routes.get(SESSION).port()));
        try (Socket c = visitorFrom("127.0.0.1")) {
            c.getOutputStream()
                    .write("GET /user/byname/x HTTP/1.1\r\nHost: ferry.test\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            assertThat(response(new BufferedInputStream(c.getInputStream())))
                    .startsWith("HTTP/1.1 200")
                    .endsWith("/user/byname/x");
        } finally {
            routes.remove("byname", "the test is over");
        }
        assertThat(connections.get())
                .as("relayed by the front door, not replayed to the portal")
                .isEqualTo(1);
    }
}
