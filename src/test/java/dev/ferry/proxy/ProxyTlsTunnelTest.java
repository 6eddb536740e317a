package dev.ferry.proxy;

import static dev.ferry.proxy.ScriptedUpstream.SWITCHING;
import static dev.ferry.proxy.ScriptedUpstream.UPGRADE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.ferry.testing.TempDirs;

/**
 * When Ferry itself terminates TLS ({@code server.ssl.*}), the front door does, with the same key store: WebSocket
 * tunnels pass bytes intact both ways in any amount, and either side closing ends the other; the portal behind the
 * door knows the visitor used https (its cookies are {@code Secure}); and a visitor that never finishes its handshake
 * is dropped at the request-head timeout.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "ferry.platform=local",
            "server.tomcat.connection-timeout=1s",
            "server.tomcat.keep-alive-timeout=1s",
            "ferry.proxy.request-head-timeout=2s",
            "ferry.admin.password=" + ProxyTlsTunnelTest.PASSWORD
        })
class ProxyTlsTunnelTest extends ScriptedUpstreamBase {

    private static final String SESSION = "stubsessiontlsaaaaaaaaaaaaaaaaaa";
    static final String PASSWORD = "tls-operator-secret";

    @Autowired
    ProxyMetrics metrics;

    @DynamicPropertySource
    static void selfSignedCertificate(DynamicPropertyRegistry registry) throws Exception {
        Path keystore =
                TempDirs.deleteOnExit(Files.createTempDirectory("ferry-tls")).resolve("ferry.p12");
        selfSigned(keystore, "localhost");
        registry.add("server.ssl.key-store", keystore::toString);
        registry.add("server.ssl.key-store-password", () -> "changeit");
        registry.add("server.ssl.key-store-type", () -> "PKCS12");
    }

    /** Writes a PKCS12 key store (password {@code changeit}) with a new self-signed certificate for {@code cn}. */
    static void selfSigned(Path keystore, String cn) throws Exception {
        Process keytool = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-genkeypair",
                        "-alias",
                        "ferry",
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-dname",
                        "CN=" + cn,
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        keystore.toString(),
                        "-storepass",
                        "changeit")
                .redirectErrorStream(true)
                .start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0)
                .as(out)
                .isTrue();
    }

    @Override
    String session() {
        return SESSION;
    }

    private Socket client() throws Exception {
        return tlsClient(port);
    }

    /** A TLS client that trusts the test's self-signed certificate (and nothing is at stake: loopback). */
    static SSLSocket tlsClient(int port) throws Exception {
        X509TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, new TrustManager[] {trustAll}, new SecureRandom());
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(30_000);
        s.startHandshake();
        return s;
    }

    private InputStream upgrade(Socket c) throws IOException {
        ProxyStreamingTest.send(
                c, "GET /user/" + SESSION + "/api/kernels/k/channels HTTP/1.1\r\nHost: ferry.test\r\n" + UPGRADE);
        c.getOutputStream().flush();
        InputStream in = new BufferedInputStream(c.getInputStream());
        assertThat(ProxyStreamingTest.readHead(in)).startsWith("HTTP/1.1 101");
        return in;
    }

    @Test
    void sixteenMebibytesEchoIntactThroughATlsVisitorConnectionAfterIdling() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            assertThat(ProxyStreamingTest.readHead(in))
                    .contains("X-Forwarded-Proto: wss"); // as node-http-proxy (CHP) says it
            OutputStream out = s.getOutputStream();
            out.write(SWITCHING);
            out.flush();
            ScriptedUpstream.echo(in, out);
        });
        try (Socket c = client()) {
            InputStream in = upgrade(c);
            Thread.sleep(2_000); // twice Tomcat's connection timeout, idle
            byte[] payload = new byte[16 * 1024 * 1024];
            new Random(13).nextBytes(payload);
            assertThat(Arrays.equals(ScriptedUpstream.sendAndReceive(c, in, payload, 60), payload))
                    .isTrue();
        }
        server.get(15, TimeUnit.SECONDS);
    }

    @Test
    void aSlowTlsVisitorGetsEveryByteOfAFastServerInOrder() throws Exception {
        byte[] payload = new byte[32 * 1024 * 1024];
        new Random(17).nextBytes(payload);
        CompletableFuture<Void> server = upstream.serveOnce(ScriptedUpstream.upgradeThenSend(payload));
        try (Socket c = client()) {
            InputStream in = upgrade(c);
            Thread.sleep(500); // let the proxy fill every buffer towards the visitor
            assertThat(Arrays.equals(ScriptedUpstream.readInSmallReads(in, payload.length), payload))
                    .isTrue();
        }
        server.get(10, TimeUnit.SECONDS);
    }

    /** A request over the TLS connection; the response as read (one request per connection). */
    private LoopbackVisitors.Response tlsRequest(String request) throws Exception {
        try (Socket c = client()) {
            c.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            c.getOutputStream().flush();
            return LoopbackVisitors.read(new BufferedInputStream(c.getInputStream()));
        }
    }

    @Test
    void thePortalBehindTheDoorKnowsTheVisitorUsedHttpsAndMakesItsCookieSecure() throws Exception {
        LoopbackVisitors.Response form =
                tlsRequest("GET /admin/login HTTP/1.1\r\nHost: ferry.test\r\nConnection: close\r\n\r\n");
        assertThat(form.status()).isEqualTo(200);
        Matcher csrf = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(form.body());
        assertThat(csrf.find()).as(form.body()).isTrue();
        String cookies = form.head()
                .lines()
                .filter(l -> l.regionMatches(true, 0, "Set-Cookie:", 0, 11))
                .map(l -> l.substring(11).trim().split(";", 2)[0])
                .collect(Collectors.joining("; "));
        String body = "username=admin&password=" + PASSWORD + "&_csrf="
                + URLEncoder.encode(csrf.group(1), StandardCharsets.UTF_8);
        LoopbackVisitors.Response login =
                tlsRequest("POST /admin/login HTTP/1.1\r\nHost: ferry.test\r\nConnection: close\r\n"
                        + (cookies.isEmpty() ? "" : "Cookie: " + cookies + "\r\n")
                        + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body);
        assertThat(login.status()).as(login.head()).isEqualTo(302);
        assertThat(login.head().lines().filter(l -> l.startsWith("Set-Cookie: FERRY_ADMIN=")))
                .as(login.head())
                .singleElement()
                .asString()
                .contains("; Secure");
    }

    @Test
    void aHandshakeThatNeverFinishesIsDroppedAtTheRequestHeadTimeout() throws Exception {
        long openBefore = metrics.openConnections();
        long start = System.nanoTime();
        try (Socket stalled = new Socket("127.0.0.1", port)) {
            stalled.setSoTimeout(30_000);
            // the start of a ClientHello record (handshake, TLS 1.0 record version, 512 bytes announced)
            stalled.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01});
            stalled.getOutputStream().flush();
            long counted = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (metrics.openConnections() == openBefore && System.nanoTime() < counted) {
                Thread.sleep(10);
            }
            assertThat(metrics.openConnections())
                    .as("it holds a slot while it is open")
                    .isGreaterThan(openBefore);
            CompletableFuture<Integer> end = CompletableFuture.supplyAsync(() -> {
                try {
                    return stalled.getInputStream().read();
                } catch (IOException reset) {
                    return -1;
                }
            });
            // then a byte of it every 200 ms (never idle, never complete), for up to 8 s
            for (int i = 0; i < 40 && !end.isDone(); i++) {
                try {
                    stalled.getOutputStream().write(0);
                    stalled.getOutputStream().flush();
                } catch (IOException closed) {
                    break;
                }
                Thread.sleep(200);
            }
            int read = end.get(10, TimeUnit.SECONDS);
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(read).as("closed without an answer").isEqualTo(-1);
            assertThat(waited).as("dropped at the 2 s deadline, ms").isBetween(1_800L, 8_000L);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (metrics.openConnections() > openBefore && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(metrics.openConnections()).as("its slot is free again").isEqualTo(openBefore);
    }

    @Test
    void theServerClosingEndsTheTlsVisitorsConnection() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
            s.getOutputStream().write(SWITCHING);
            ProxyStreamingTest.send(s, "bye");
            s.getOutputStream().flush();
        });
        try (Socket c = client()) {
            InputStream in = upgrade(c);
            assertThat(new String(in.readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("bye");
            long t0 = System.nanoTime();
            assertThat(in.read()).as("end of stream once the server closed").isEqualTo(-1);
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void theTlsVisitorClosingEndsTheServersSide() throws Exception {
        CompletableFuture<String> server = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                ProxyStreamingTest.readHead(in);
                s.getOutputStream().write(SWITCHING);
                s.getOutputStream().flush();
                String frame = new String(in.readNBytes(5), StandardCharsets.US_ASCII);
                s.setSoTimeout(10_000);
                return frame + (in.read() == -1 ? " then end of stream" : " then more bytes");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket c = client()) {
            upgrade(c);
            ProxyStreamingTest.send(c, "hello");
            c.getOutputStream().flush();
        }
        assertThat(server.get(15, TimeUnit.SECONDS)).isEqualTo("hello then end of stream");
    }
}
