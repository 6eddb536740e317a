package dev.ferry.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.servlet.http.WebConnection;

import org.apache.coyote.http11.upgrade.InternalHttpUpgradeHandler;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.SSLSupport;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * After the notebook server accepted a WebSocket upgrade, copies raw bytes both ways between the visitor's connection
 * and the server's: no frame is decoded, so there is no frame size limit and no re-encoding, and close frames, ping
 * and pong pass as they are. Every chunk stamps the route's activity. When either side ends, both are closed.
 * <p>
 * No thread and no buffer belong to a tunnel: a shared {@link TunnelSelector} thread reads both sides and writes each
 * chunk to the other side at once, without blocking, like nginx does. When one side cannot take more, what is left of
 * that chunk waits in a buffer of its own and the other side is not read until it has drained, so at most one read's
 * worth of bytes waits in memory. On a plain-TCP visitor connection, Tomcat hands the socket over after the 101
 * ({@link #hasAsyncIO()}); on TLS, the visitor's side stays with Tomcat: it is read on Tomcat's workers
 * ({@link #upgradeDispatch}) and written through Tomcat's socket wrapper.
 * <p>
 * This is a Tomcat-internal upgrade handler on purpose: the Servlet API's {@code WebConnection} cannot close an
 * upgraded connection from an application thread (Tomcat only closes it on its next socket event, so a visitor whose
 * server died would wait forever), nor hand over the socket. Tomcat's socket wrapper can do both.
 */
public final class WebSocketTunnel implements InternalHttpUpgradeHandler {

    /**
     * The visitor-to-server direction runs on Tomcat's worker threads, one dispatch at a time per connection: a buffer
     * per worker thread serves every tunnel.
     */
    private static final ThreadLocal<byte[]> CLIENT_BUFFERS = ThreadLocal.withInitial(() -> new byte[64 * 1024]);
    /** Reads per selector wake-up before other tunnels of the same thread get their turn. */
    private static final int READS_PER_TURN = 16;

    private SocketWrapperBase<?> client;
    private SocketChannel upstream;
    private byte[] early;
    private Route route;
    private TunnelSelector selector;
    private ProxyMetrics metrics;
    /** The visitor's plain-TCP channel when the tunnel drives it itself, else null (TLS: through Tomcat's wrapper). */
    private SocketChannel visitor;
    private volatile SelectionKey key;
    private volatile SelectionKey visitorKey;
    private volatile TunnelSelector.Loop loop;
    /** What the server (visitor) could not take yet of the last chunk; only on the selector thread. */
    private ByteBuffer toServer;
    private ByteBuffer toVisitor;
    /** Guards writes to the visitor: the selector thread writes, a Tomcat worker flushes when the visitor drains. */
    private final Object clientWrite = new Object();
    /** The visitor could not take more: the server's side is not read until Tomcat reports it writable. */
    private boolean clientBlocked;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Tomcat creates the handler; the proxy attaches the upstream before the 101 is sent. */
    public WebSocketTunnel() {
    }

    /**
     * {@code early}: bytes the server sent right after its 101, already read with the response head (may be empty).
     */
    void attach(SocketChannel upstream, byte[] early, Route route, TunnelSelector selector, ProxyMetrics metrics) {
        this.upstream = upstream;
        this.early = early;
        this.route = route;
        this.selector = selector;
        this.metrics = metrics;
    }

    @Override
    public void setSocketWrapper(SocketWrapperBase<?> wrapper) {
        this.client = wrapper;
        if (wrapper.getSocket() instanceof NioChannel channel && channel.getClass() == NioChannel.class) {
            this.visitor = channel.getIOChannel(); // not a SecureNioChannel: the bytes on the socket are the frames
        }
    }

    /** True: after {@link #init}, Tomcat leaves the visitor's socket to the tunnel (no read interest, no dispatches). */
    @Override
    public boolean hasAsyncIO() {
        return visitor != null;
    }

    @Override
    public void init(WebConnection connection) {
        metrics.webSocketOpened();
        try {
            if (early.length > 0) {
                metrics.bytes(early.length);
                client.write(true, early, 0, early.length);
                client.flush(true);
            }
            early = null;
            if (visitor != null) {
                // Bytes the visitor sent with its upgrade request are in Tomcat's buffer: pass them on before the
                // socket is read directly (the server's channel is still blocking here).
                byte[] buffer = CLIENT_BUFFERS.get();
                int n;
                while ((n = client.read(false, buffer, 0, buffer.length)) > 0) {
                    route.touch();
                    metrics.bytes(n);
                    writeToServer(ByteBuffer.wrap(buffer, 0, n));
                }
                if (n < 0) {
                    close();
                    return;
                }
            }
            selector.register(upstream, visitor, this);
        } catch (IOException | RuntimeException e) {
            close();
        }
    }

    /** On the selector thread, once the channels are registered ({@code visitorKey} null: Tomcat reads the visitor). */
    void registered(SelectionKey key, SelectionKey visitorKey, TunnelSelector.Loop loop) {
        this.key = key;
        this.visitorKey = visitorKey;
        this.loop = loop;
        if (closed.get()) {
            key.cancel();
            if (visitorKey != null) {
                visitorKey.cancel();
            }
            loop.wakeup();
        }
    }

    /** On the selector thread: one of the tunnel's channels is ready. */
    void ready(SelectionKey ready, ByteBuffer buffer) {
        try {
            if (visitorKey == null) {
                serverReadable(buffer);
                return;
            }
            boolean visitorSide = ready == visitorKey;
            if (ready.isWritable()) {
                drain(visitorSide ? visitor : upstream, visitorSide);
            }
            // A side is read only while the other side has nothing of it still waiting.
            if (ready.isValid() && ready.isReadable()) {
                if (visitorSide && toServer == null) {
                    pump(visitor, upstream, buffer, false);
                } else if (!visitorSide && toVisitor == null) {
                    pump(upstream, visitor, buffer, true);
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
        }
    }

    /** Copies what {@code from} has to {@code to}; keeps what {@code to} cannot take and stops reading {@code from}. */
    private void pump(SocketChannel from, SocketChannel to, ByteBuffer buffer, boolean toTheVisitor) throws IOException {
        for (int turn = 0; turn < READS_PER_TURN; turn++) {
            buffer.clear();
            int n = from.read(buffer);
            if (n < 0) {
                close();
                return;
            }
            if (n == 0) {
                return;
            }
            route.touch();
            metrics.bytes(n);
            buffer.flip();
            to.write(buffer);
            if (buffer.hasRemaining()) {
                ByteBuffer rest = ByteBuffer.allocate(buffer.remaining()).put(buffer).flip();
                if (toTheVisitor) {
                    toVisitor = rest;
                } else {
                    toServer = rest;
                }
                interests();
                return;
            }
            if (n < buffer.capacity()) {
                return; // very likely drained; don't spend a read to learn that
            }
        }
    }

    /** Writes what waited for {@code to}; once nothing is left, the other side is read again. */
    private void drain(SocketChannel to, boolean toTheVisitor) throws IOException {
        ByteBuffer waiting = toTheVisitor ? toVisitor : toServer;
        if (waiting == null) {
            return;
        }
        to.write(waiting);
        if (waiting.hasRemaining()) {
            return;
        }
        if (toTheVisitor) {
            toVisitor = null;
        } else {
            toServer = null;
        }
        interests();
    }

    /** A side is read only while the other has nothing waiting; a side with bytes waiting is watched for room. */
    private void interests() {
        key.interestOps((toVisitor == null ? SelectionKey.OP_READ : 0) | (toServer == null ? 0 : SelectionKey.OP_WRITE));
        visitorKey.interestOps((toServer == null ? SelectionKey.OP_READ : 0) | (toVisitor == null ? 0 : SelectionKey.OP_WRITE));
    }

    /** On the selector thread, TLS visitors: the server sent bytes (or closed); written through Tomcat's wrapper. */
    private void serverReadable(ByteBuffer buffer) {
        try {
            for (int turn = 0; turn < READS_PER_TURN; turn++) {
                buffer.clear();
                int n = upstream.read(buffer);
                if (n < 0) {
                    close();
                    return;
                }
                if (n == 0) {
                    return;
                }
                route.touch();
                metrics.bytes(n);
                buffer.flip();
                synchronized (clientWrite) {
                    client.write(false, buffer);
                    if (client.flush(false) || !client.canWrite()) {
                        // The visitor's socket is full: wait for Tomcat's OPEN_WRITE before reading the server again.
                        clientBlocked = true;
                        key.interestOps(0);
                        client.registerWriteInterest();
                        return;
                    }
                }
                if (n < buffer.capacity()) {
                    return; // the server's socket is very likely drained; don't spend a read to learn that
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
        }
    }

    /** Tomcat's callback when the visitor's side is readable (or closed), or writable again after a full socket. */
    @Override
    public SocketState upgradeDispatch(SocketEvent status) {
        if (status == SocketEvent.OPEN_WRITE) {
            return clientWritable() ? SocketState.UPGRADED : SocketState.CLOSED;
        }
        if (status != SocketEvent.OPEN_READ) {
            close();
            return SocketState.CLOSED;
        }
        try {
            int n;
            byte[] fromClient = CLIENT_BUFFERS.get();
            while ((n = client.read(false, fromClient, 0, fromClient.length)) > 0) {
                route.touch();
                metrics.bytes(n);
                writeToServer(ByteBuffer.wrap(fromClient, 0, n));
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

    /** Flushes what waited for the visitor; once all is out, reads the server again. False when the tunnel is over. */
    private boolean clientWritable() {
        if (closed.get()) {
            return false;
        }
        try {
            synchronized (clientWrite) {
                if (!clientBlocked) {
                    return true;
                }
                if (client.flush(false) || !client.canWrite()) {
                    client.registerWriteInterest();
                    return true;
                }
                clientBlocked = false;
            }
            SelectionKey k = key;
            loop.run(() -> {
                if (k.isValid()) {
                    k.interestOps(SelectionKey.OP_READ);
                }
            });
            return true;
        } catch (IOException | RuntimeException e) {
            close();
            return false;
        }
    }

    /**
     * Writes all of {@code bytes} to the server's non-blocking channel. When its socket is full (a large message the
     * server reads slowly) this worker waits on a selector of its own until it drains, which holds back the visitor
     * like a blocking write would.
     */
    private void writeToServer(ByteBuffer bytes) throws IOException {
        upstream.write(bytes);
        if (!bytes.hasRemaining()) {
            return;
        }
        try (Selector wait = Selector.open()) {
            upstream.register(wait, SelectionKey.OP_WRITE);
            while (bytes.hasRemaining()) {
                if (closed.get()) {
                    throw new IOException("tunnel closed");
                }
                wait.select(1_000);
                wait.selectedKeys().clear();
                upstream.write(bytes);
            }
        }
    }

    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        metrics.webSocketClosed();
        SelectionKey k = key;
        if (k != null) {
            k.cancel();
        }
        SelectionKey v = visitorKey;
        if (v != null) {
            v.cancel();
        }
        try {
            upstream.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
        TunnelSelector.Loop l = loop;
        if (l != null) {
            l.wakeup(); // a cancelled channel's descriptor is released at the selector's next select
        }
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
