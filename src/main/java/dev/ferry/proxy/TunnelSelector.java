package dev.ferry.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries every WebSocket tunnel on a few shared selector threads, instead of a thread (and buffers) per tunnel: an
 * idle tunnel costs two registered channels and nothing else, and a message goes from one side to the other on the
 * thread that saw it arrive, without a hand-off. One read buffer per selector thread serves all of its tunnels.
 * Threads start with the first tunnel and stop with {@link #close()}.
 */
final class TunnelSelector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TunnelSelector.class);
    private static final int BUFFER = 64 * 1024;

    private final Loop[] loops;
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean started;
    private volatile boolean closed;

    TunnelSelector(int threads) {
        this.loops = new Loop[Math.max(1, threads)];
    }

    /**
     * Starts reading the server's {@code channel} (non-blocking from now on) for {@code tunnel} on one of the selector
     * threads, and the visitor's {@code visitor} channel too when it is given (a plain TCP connection the tunnel
     * drives itself).
     */
    void register(SocketChannel channel, SocketChannel visitor, WebSocketTunnel tunnel) throws IOException {
        channel.configureBlocking(false);
        Loop loop = loops()[Math.floorMod(next.getAndIncrement(), loops.length)];
        loop.run(() -> {
            try {
                SelectionKey server = channel.register(loop.selector, SelectionKey.OP_READ, tunnel);
                SelectionKey client = visitor == null ? null : visitor.register(loop.selector, SelectionKey.OP_READ, tunnel);
                tunnel.registered(server, client, loop);
            } catch (ClosedChannelException | java.nio.channels.IllegalBlockingModeException
                     | java.nio.channels.CancelledKeyException e) {
                tunnel.close();
            }
        });
    }

    private Loop[] loops() throws IOException {
        if (!started) {
            synchronized (this) {
                if (closed) {
                    throw new IOException("the proxy is stopping");
                }
                if (!started) {
                    for (int i = 0; i < loops.length; i++) {
                        loops[i] = new Loop(i + 1);
                    }
                    started = true;
                }
            }
        }
        return loops;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (started) {
            for (Loop loop : loops) {
                loop.stop();
            }
        }
    }

    /** One selector thread. Work from other threads (registrations, resumed reads) goes through its queue. */
    static final class Loop implements Runnable {
        final Selector selector;
        private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final Thread thread;
        private volatile boolean running = true;

        Loop(int n) throws IOException {
            selector = Selector.open();
            thread = new Thread(this, "ferry-ws-selector-" + n);
            thread.setDaemon(true);
            thread.start();
        }

        void run(Runnable task) {
            tasks.add(task);
            selector.wakeup();
        }

        /** Makes a closed channel's descriptor go now rather than at the next event of another tunnel. */
        void wakeup() {
            selector.wakeup();
        }

        void stop() {
            running = false;
            selector.wakeup();
        }

        @Override
        public void run() {
            ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
            try {
                while (running) {
                    selector.select();
                    Runnable task;
                    while ((task = tasks.poll()) != null) {
                        try {
                            task.run();
                        } catch (RuntimeException e) {
                            log.warn("WebSocket selector task failed", e); // one tunnel's trouble, not the thread's
                        }
                    }
                    Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                    while (keys.hasNext()) {
                        SelectionKey key = keys.next();
                        keys.remove();
                        if (key.isValid()) {
                            ((WebSocketTunnel) key.attachment()).ready(key, buffer); // closes its tunnel on any failure
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.error("WebSocket selector thread failed; its tunnels are closed", e);
            } finally {
                for (SelectionKey key : new java.util.ArrayList<>(selector.keys())) {
                    ((WebSocketTunnel) key.attachment()).close();
                }
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // nothing left to release
                }
            }
        }
    }
}
