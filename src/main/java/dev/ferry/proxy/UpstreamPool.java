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

    private final Map<String, Deque<UpstreamConnection>> idle = new ConcurrentHashMap<>();
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;

    UpstreamPool(int connectTimeoutMillis, int readTimeoutMillis) {
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.readTimeoutMillis = readTimeoutMillis;
    }

    /** A pooled connection when one is idle, else a new one. */
    UpstreamConnection acquire(String host, int port) throws IOException {
        Deque<UpstreamConnection> deque = idle.get(host + ":" + port);
        if (deque != null) {
            long now = System.nanoTime();
            UpstreamConnection c;
            while ((c = deque.pollFirst()) != null) {
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

    void release(UpstreamConnection c) {
        c.idleSinceNanos = System.nanoTime();
        Deque<UpstreamConnection> deque = idle.computeIfAbsent(c.poolKey(), k -> new ConcurrentLinkedDeque<>());
        if (deque.size() < MAX_IDLE_PER_UPSTREAM) {
            deque.addFirst(c);
        } else {
            c.close();
        }
    }

    void closeAll(String host, int port) {
        Deque<UpstreamConnection> deque = idle.remove(host + ":" + port);
        if (deque != null) {
            deque.forEach(UpstreamConnection::close);
        }
    }

    int idleCount() {
        return idle.values().stream().mapToInt(Deque::size).sum();
    }
}
