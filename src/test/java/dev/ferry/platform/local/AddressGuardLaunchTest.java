package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.eclipse.jgit.transport.HttpTransport;
import org.eclipse.jgit.transport.http.HttpConnection;
import org.eclipse.jgit.transport.http.HttpConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.test.context.TestPropertySource;

import dev.ferry.testing.EventStream;

/**
 * With the default policy (no private addresses), launches of repositories on loopback, private and link-local
 * addresses are refused before any connection: JGit's connection factory is replaced by one that records (and fails)
 * every attempt, and a listening socket on loopback checks that nothing reached it.
 */
@TestPropertySource(properties = "ferry.repo.allow-private-addresses=false")
class AddressGuardLaunchTest extends LocalPlatformTestSupport {

    private final List<String> attempts = new CopyOnWriteArrayList<>();
    private HttpConnectionFactory previous;

    @BeforeEach
    void recordConnections() {
        previous = HttpTransport.getConnectionFactory();
        HttpTransport.setConnectionFactory(new HttpConnectionFactory() {
            @Override
            public HttpConnection create(URL url) throws IOException {
                attempts.add(url.toString());
                throw new IOException("the test forbids connections");
            }

            @Override
            public HttpConnection create(URL url, Proxy proxy) throws IOException {
                return create(url);
            }
        });
    }

    @AfterEach
    void restore() {
        HttpTransport.setConnectionFactory(previous);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.1/repo.git",
                "http://192.168.1.10/repo.git",
                "http://[::1]/repo.git",
                "http://[fd00::1]/repo.git",
                "http://0.0.0.0/repo.git",
                "http://2130706433/repo.git"
            })
    void privateAndLinkLocalAddressesAreRefusedWithoutAConnection(String url) throws Exception {
        EventStream.Result result = launch(url, "HEAD");
        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).isEqualTo("failed");
        assertThat(failed.get("status_code")).isIn(400, 403);
        assertThat(attempts).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "localhost"})
    void loopbackIsRefusedAndNothingReachesIt(String host) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(300);
            Map<String, Object> failed = launch("http://" + host + ":" + listener.getLocalPort() + "/repo.git", "main")
                    .last();

            assertThat(failed.get("phase")).isEqualTo("failed");
            assertThat(failed.get("status_code")).isEqualTo(403);
            assertThat((String) failed.get("message"))
                    .contains("resolves to a loopback address")
                    .contains("only fetches repositories from public hosts");
            assertThat(attempts).isEmpty();
            try {
                listener.accept().close();
                throw new AssertionError("Ferry connected to a refused address");
            } catch (SocketTimeoutException expected) {
                // nothing connected
            }
        }
    }
}
