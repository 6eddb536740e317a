package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A notebook server stand-in for the proxy tests: a socket on loopback routed as one session, whose every connection
 * the test scripts. Also the WebSocket handshake bytes and the scripts and reads several tests share.
 */
final class ScriptedUpstream implements AutoCloseable {

    static final String UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    static final byte[] SWITCHING = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket socket;
    private final RouteTable routes;
    private final String session;

    ScriptedUpstream(RouteTable routes, String session) throws IOException {
        this.routes = routes;
        this.session = session;
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        routes.add(new Route(session, "127.0.0.1", socket.getLocalPort()));
    }

    Socket accept() throws IOException {
        return socket.accept();
    }

    /** Serves one upstream connection with the script, on its own thread. */
    CompletableFuture<Void> serveOnce(Consumer<Socket> script) {
        return CompletableFuture.runAsync(() -> {
            try (Socket s = socket.accept()) {
                script.accept(s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * A server that accepts the upgrade and at once sends {@code payload} — far more than the sockets between hold, so
     * the proxy must wait for the visitor — then waits for the visitor to go.
     */
    static Consumer<Socket> upgradeThenSend(byte[] payload) {
        return s -> {
            try {
                ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
                OutputStream out = s.getOutputStream();
                out.write(SWITCHING);
                out.write(payload);
                out.flush();
                s.getInputStream().read();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /** A slow visitor: {@code length} bytes in reads of at most 4 KiB. */
    static byte[] readInSmallReads(InputStream in, int length) throws IOException {
        byte[] received = new byte[length];
        int off = 0;
        while (off < length) {
            int n = in.read(received, off, Math.min(4096, length - off));
            assertThat(n).isPositive();
            off += n;
        }
        return received;
    }

    @Override
    public void close() throws IOException {
        routes.remove(session, "the test ended.");
        socket.close();
    }
}
