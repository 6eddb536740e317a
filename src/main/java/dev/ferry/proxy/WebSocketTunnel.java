package dev.ferry.proxy;

import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.servlet.http.WebConnection;

import org.apache.coyote.http11.upgrade.InternalHttpUpgradeHandler;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.SSLSupport;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * After the notebook server accepted a WebSocket upgrade, copies raw bytes both ways between the visitor's connection
 * and the server's: no frame is decoded, so there is no frame size limit and no re-encoding, and close frames, ping
 * and pong pass as they are. Every chunk stamps the route's activity. When either side ends, both are closed.
 * <p>
 * This is a Tomcat-internal upgrade handler on purpose: the Servlet API's {@code WebConnection} cannot close an
 * upgraded connection from an application thread (Tomcat only closes it on its next socket event, so a visitor whose
 * server died would wait forever). Tomcat's socket wrapper can, and lets the visitor's side be read without a thread
 * of its own: Tomcat calls {@link #upgradeDispatch} when bytes arrive. One thread per tunnel reads the server's side.
 */
public final class WebSocketTunnel implements InternalHttpUpgradeHandler {

    private static final int BUFFER = 16 * 1024;
    /**
     * The visitor-to-server direction runs on Tomcat's worker threads, one dispatch at a time per connection: a buffer
     * per worker thread serves every tunnel, so an idle tunnel holds only its server-side buffer.
     */
    private static final ThreadLocal<byte[]> CLIENT_BUFFERS = ThreadLocal.withInitial(() -> new byte[64 * 1024]);

    private SocketWrapperBase<?> client;
    private UpstreamConnection upstream;
    private Route route;
    private Executor executor;
    private ProxyMetrics metrics;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Tomcat creates the handler; the proxy attaches the upstream before the 101 is sent. */
    public WebSocketTunnel() {
    }

    void attach(UpstreamConnection upstream, Route route, Executor executor, ProxyMetrics metrics) {
        this.upstream = upstream;
        this.route = route;
        this.executor = executor;
        this.metrics = metrics;
    }

    @Override
    public void setSocketWrapper(SocketWrapperBase<?> wrapper) {
        this.client = wrapper;
    }

    @Override
    public void init(WebConnection connection) {
        metrics.webSocketOpened();
        try {
            upstream.readTimeout(0);
            executor.execute(this::serverToClient);
        } catch (IOException | RuntimeException e) {
            close();
        }
    }

    /** Tomcat's callback when the visitor's side is readable (or closed). */
    @Override
    public SocketState upgradeDispatch(SocketEvent status) {
        if (status != SocketEvent.OPEN_READ) {
            if (status == SocketEvent.OPEN_WRITE) {
                return closed.get() ? SocketState.CLOSED : SocketState.UPGRADED;
            }
            close();
            return SocketState.CLOSED;
        }
        try {
            int n;
            boolean wrote = false;
            byte[] fromClient = CLIENT_BUFFERS.get();
            while ((n = client.read(false, fromClient, 0, fromClient.length)) > 0) {
                route.touch();
                metrics.bytes(n);
                upstream.out.write(fromClient, 0, n);
                wrote = true;
            }
            if (wrote) {
                upstream.out.flush();
            }
            if (n < 0) {
                close();
                return SocketState.CLOSED;
            }
            return closed.get() ? SocketState.CLOSED : SocketState.UPGRADED;
        } catch (IOException | RuntimeException e) {
            close();
            return SocketState.CLOSED;
        }
    }

    private void serverToClient() {
        byte[] buffer = new byte[BUFFER];
        try {
            int n;
            while ((n = upstream.in.read(buffer)) != -1) {
                route.touch();
                metrics.bytes(n);
                client.write(true, buffer, 0, n);
                client.flush(true);
            }
        } catch (IOException | RuntimeException e) {
            // one side went away: close both below
        } finally {
            close();
        }
    }

    private void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        metrics.webSocketClosed();
        upstream.close();
        if (client != null) {
            client.close();
        }
    }

    @Override
    public void destroy() {
        close();
    }

    @Override
    public void timeoutAsync(long now) {
        // no timeouts: an idle notebook WebSocket stays open until one side closes it
    }

    @Override
    public void setSslSupport(SSLSupport sslSupport) {
        // the bytes are tunnelled as they are
    }

    @Override
    public void pause() {
        // nothing to pause: the tunnel ends when either side closes
    }
}
