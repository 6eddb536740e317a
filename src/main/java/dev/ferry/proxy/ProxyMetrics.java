package dev.ferry.proxy;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the proxy, read by metrics and tests. */
public final class ProxyMetrics {

    private final AtomicLong openWebSockets = new AtomicLong();
    private final AtomicLong upstreamErrors = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder bytes = new java.util.concurrent.atomic.LongAdder();

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
        io.netty.buffer.PooledByteBufAllocatorMetric metric = FrontDoor.ALLOCATOR.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    public long openWebSockets() {
        return openWebSockets.get();
    }

    public long upstreamErrors() {
        return upstreamErrors.get();
    }
}
