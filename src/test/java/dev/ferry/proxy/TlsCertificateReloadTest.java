package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLSocket;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.ferry.testing.TempDirs;

/**
 * A certificate renewed on disk (cert-manager, say) reaches the front door without a restart when the operator names a
 * bundle with {@code reload-on-update}, as Spring Boot does for Tomcat: the next connection gets the new one.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "ferry.platform=local",
            "server.ssl.bundle=web",
            "spring.ssl.bundle.jks.web.keystore.password=changeit",
            "spring.ssl.bundle.jks.web.keystore.type=PKCS12",
            "spring.ssl.bundle.jks.web.reload-on-update=true",
            "spring.ssl.bundle.watch.file.quiet-period=200ms"
        })
class TlsCertificateReloadTest {

    private static Path keystore;

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void firstCertificate(DynamicPropertyRegistry registry) throws Exception {
        keystore = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-tls-reload"))
                .resolve("ferry.p12");
        ProxyTlsTunnelTest.selfSigned(keystore, "first.ferry.test");
        registry.add("spring.ssl.bundle.jks.web.keystore.location", () -> "file:" + keystore);
    }

    private String certificateName() throws Exception {
        try (SSLSocket s = ProxyTlsTunnelTest.tlsClient(port)) {
            X509Certificate cert = (X509Certificate) s.getSession().getPeerCertificates()[0];
            return cert.getSubjectX500Principal().getName();
        }
    }

    @Test
    void aRenewedCertificateIsServedToNewConnectionsWithoutARestart() throws Exception {
        assertThat(certificateName()).isEqualTo("CN=first.ferry.test");

        Path next = keystore.resolveSibling("next.p12");
        ProxyTlsTunnelTest.selfSigned(next, "second.ferry.test");
        Files.move(next, keystore, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(certificateName()).isEqualTo("CN=second.ferry.test"));
    }

    /** A renewal that cannot be read (a half-written or broken file) leaves the door serving the certificate it has. */
    @Test
    void aBrokenRenewalLeavesTheCurrentCertificateInPlace() throws Exception {
        String current = certificateName();
        Path broken = keystore.resolveSibling("broken.p12");
        Files.writeString(broken, "not a key store");
        byte[] good = Files.readAllBytes(keystore);
        try {
            Files.move(broken, keystore, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Awaitility.await()
                    .during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(250))
                    .untilAsserted(() -> assertThat(certificateName()).isEqualTo(current));
        } finally {
            Files.write(keystore, good); // the other test renews from a readable file
        }
    }
}
