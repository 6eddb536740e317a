package dev.ferry.proxy;

import static dev.ferry.proxy.ScriptedUpstream.SWITCHING;
import static dev.ferry.proxy.ScriptedUpstream.UPGRADE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.ferry.testing.TempDirs;

/**
 * WebSocket tunnels when Ferry itself terminates TLS ({@code server.ssl.*}): Tomcat cannot hand an encrypted socket
 * over, so the visitor's side stays with Tomcat's socket wrapper while the server's side is on a tunnel selector —
 * the other path of {@link WebSocketTunnel}. Bytes pass intact both ways in any amount, and either side closing ends
 * the other.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "ferry.platform=local", "server.tomcat.connection-timeout=1s", "server.tomcat.keep-alive-timeout=1s"})
class ProxyTlsTunnelTest extends ScriptedUpstreamBase {

    private static final String SESSION = "stubsessiontlsaaaaaaaaaaaaaaaaaa";

    @DynamicPropertySource
    static void selfSignedCertificate(DynamicPropertyRegistry registry) throws Exception {
        Path dir = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-tls"));
        Path keystore = dir.resolve("ferry.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "ferry", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0).as(out).isTrue();
        registry.add("server.ssl.key-store", keystore::toString);
        registry.add("server.ssl.key-store-password", () -> "changeit");
        registry.add("server.ssl.key-store-type", () -> "PKCS12");
    }

    @Override
    String session() {
        return SESSION;
    }

    /** A TLS client that trusts the test's self-signed certificate (and nothing is at stake: loopback). */
    private Socket client() throws Exception {
        X509TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

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
        c.getOutputStream().write(("GET /user/" + SESSION + "/api/kernels/k/channels HTTP/1.1\r\nHost: ferry.test\r\n" + UPGRADE)
                .getBytes(StandardCharsets.US_ASCII));
        c.getOutputStream().flush();
        InputStream in = new BufferedInputStream(c.getInputStream());
        assertThat(ProxyStreamingTest.readHead(in)).startsWith("HTTP/1.1 101");
        return in;
    }

    @Test
    void sixteenMebibytesEchoIntactThroughATlsVisitorConnectionAfterIdling() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            try {
                InputStream in = new BufferedInputStream(s.getInputStream());
                assertThat(ProxyStreamingTest.readHead(in)).contains("X-Forwarded-Proto: wss"); // as node-http-proxy (CHP) says it
                OutputStream out = s.getOutputStream();
                out.write(SWITCHING);
                out.flush();
                ScriptedUpstream.echo(in, out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket c = client()) {
            InputStream in = upgrade(c);
            Thread.sleep(2_000); // twice Tomcat's connection timeout, idle
            byte[] payload = new byte[16 * 1024 * 1024];
            new Random(13).nextBytes(payload);
            assertThat(Arrays.equals(ScriptedUpstream.sendAndReceive(c, in, payload, 60), payload)).isTrue();
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
            assertThat(Arrays.equals(ScriptedUpstream.readInSmallReads(in, payload.length), payload)).isTrue();
        }
        server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void theServerClosingEndsTheTlsVisitorsConnection() throws Exception {
        CompletableFuture<Void> server = upstream.serveOnce(s -> {
            try {
                ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
                s.getOutputStream().write(SWITCHING);
                s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
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
            c.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
        }
        assertThat(server.get(15, TimeUnit.SECONDS)).isEqualTo("hello then end of stream");
    }
}
