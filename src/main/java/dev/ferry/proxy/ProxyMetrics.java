package dev.ferry.proxy;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.netty.buffer.PooledByteBufAllocatorMetric;

/** Counters of the proxy, read by metrics and tests. */
public final class ProxyMetrics {

    private final AtomicLong openWebSockets = new AtomicLong();
    private final AtomicLong upstreamErrors = new AtomicLong();
    private final LongAdder bytes = new LongAdder();
    private final AtomicLong openConnections = new AtomicLong();
    private final LongAdder refusedGlobal = new LongAdder();
    private final LongAdder refusedAddress = new LongAdder();
    private final LongAdder headTimeouts = new LongAdder();

    void connectionOpened() {
        openConnections.incrementAndGet();
    }

    void connectionClosed() {
        openConnections.decrementAndGet();
    }

    /** {@code global}: at the cap on all connections; else at the cap on one address's. */
    void connectionRefused(boolean global) {
        (global ? refusedGlobal : refusedAddress).increment();
    }

    void headTimedOut() {
        headTimeouts.increment();
    }

    /** Visitor connections the front door holds open (WebSocket tunnels included; refused ones not). */
    public long openConnections() {
        return openConnections.get();
    }

    /** Connections answered 503 because the front door held its cap of connections in all. */
    public long refusedAtGlobalCap() {
        return refusedGlobal.sum();
    }

    /** Connections answered 503 because their address held its cap of connections. */
    public long refusedAtAddressCap() {
        return refusedAddress.sum();
    }

    /** Connections ended because a request head did not arrive in full within the request-head timeout. */
    public long headTimeouts() {
        return headTimeouts.sum();
    }

    void webSocketOpened() {
        openWebSockets.incrementAndGet();
    }

    void webSocketClosed() {
        openWebSockets.decrementAndGet();
    }

    void upstreamError() {
        upstreamErrors.incrementAndGet();
    }

    void bytes(int n) {
        bytes.add(n);
    }

    /** Bytes carried in either direction, HTTP bodies and WebSocket traffic. */
    public long bytes() {
        return bytes.sum();
    }

    /**
     * Bytes the front door's pooled allocator holds (direct and heap arenas): what bodies and messages in flight
     * cost. It grows with the largest burst in flight, not with the size of a body, since bodies are streamed.
     */
    public long bufferMemory() {
        PooledByteBufAllocatorMetric metric = FrontDoor.ALLOCATOR.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    public long openWebSockets() {
        return openWebSockets.get();
    }

    public long upstreamErrors() {
        return upstreamErrors.get();
    }
}
