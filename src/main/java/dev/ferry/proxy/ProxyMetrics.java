package dev.ferry.proxy;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the proxy, read by metrics and tests. */
public final class ProxyMetrics {

    private final AtomicLong openWebSockets = new AtomicLong();
    private final AtomicLong upstreamErrors = new AtomicLong();

    void webSocketOpened() {
        openWebSockets.incrementAndGet();
    }

    void webSocketClosed() {
        openWebSockets.decrementAndGet();
    }

    void upstreamError() {
        upstreamErrors.incrementAndGet();
    }

    public long openWebSockets() {
        return openWebSockets.get();
    }

    public long upstreamErrors() {
        return upstreamErrors.get();
    }
}
