package dev.ferry.proxy;

import java.io.IOException;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

/**
 * Idle keep-alive connections to notebook servers, per upstream address. A connection idle longer than
 * {@link #MAX_IDLE_NANOS} is closed instead of reused (the server may have dropped it); connections to a removed
 * route are closed with {@link #closeAll}.
 */
final class UpstreamPool {

    private static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_IDLE_PER_UPSTREAM = 64;

    /** Idle connections of one upstream, newest first, with an O(1) count. */
    private static final class Idle {
        final Deque<UpstreamConnection> connections = new ConcurrentLinkedDeque<>();
        final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();

        UpstreamConnection poll() {
            UpstreamConnection c = connections.pollFirst();
            if (c != null) {
                count.decrementAndGet();
            }
            return c;
        }

        boolean offer(UpstreamConnection c) {
            if (count.incrementAndGet() > MAX_IDLE_PER_UPSTREAM) {
                count.decrementAndGet();
                return false;
            }
            connections.addFirst(c);
            return true;
        }
    }

    private final Map<String, Idle> idle = new ConcurrentHashMap<>();
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;

    UpstreamPool(int connectTimeoutMillis, int readTimeoutMillis) {
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.readTimeoutMillis = readTimeoutMillis;
    }

    /** A pooled connection when one is idle, else a new one. */
    UpstreamConnection acquire(String host, int port) throws IOException {
        Idle pool = idle.get(host + ":" + port);
        if (pool != null) {
            long now = System.nanoTime();
            UpstreamConnection c;
            while ((c = pool.poll()) != null) {
                if (c.isOpen() && now - c.idleSinceNanos < MAX_IDLE_NANOS) {
                    c.reused = true;
                    return c;
                }
                c.close();
            }
        }
        return open(host, port);
    }

    /** A new connection, never pooled before. */
    UpstreamConnection open(String host, int port) throws IOException {
        return UpstreamConnection.open(host, port, connectTimeoutMillis, readTimeoutMillis);
    }

    /** A new connection for a WebSocket tunnel: selectable once the handshake is done. */
    UpstreamConnection openSelectable(String host, int port) throws IOException {
        return UpstreamConnection.openSelectable(host, port, connectTimeoutMillis, readTimeoutMillis);
    }

    void release(UpstreamConnection c) {
        c.idleSinceNanos = System.nanoTime();
        if (!idle.computeIfAbsent(c.poolKey(), k -> new Idle()).offer(c)) {
            c.close();
        }
    }

    void closeAll(String host, int port) {
        Idle pool = idle.remove(host + ":" + port);
        if (pool != null) {
            pool.connections.forEach(UpstreamConnection::close);
        }
    }

    int idleCount() {
        return idle.values().stream().mapToInt(p -> p.count.get()).sum();
    }
}
