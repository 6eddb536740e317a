package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;

/** {@link RegistryClient} when nothing listens where the registry should be. */
class RegistryClientUnreachableTest {

    @Test
    void aRegistryThatIsDownIsAnErrorNamingItsHost() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        RegistryClient client = new RegistryClient(
                new RegistryProperties("127.0.0.1:" + port + "/ferry/", "", true, "ferry", "s3cret-Pa55word"));
        assertThatThrownBy(() -> client.exists("ferry/demo", "abc123"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("connection refused")
                .hasMessageContaining("ferry.registry.url")
                .message()
                .doesNotContain("s3cret-Pa55word");
    }
}
