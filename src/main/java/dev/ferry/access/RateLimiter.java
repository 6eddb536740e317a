package dev.ferry.access;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.ferry.AddressBlocks;

/**
 * A token bucket per client address: {@code burst} requests at once, refilled at {@code perMinute} per minute. The
 * buckets of the least recently seen addresses are forgotten beyond 100,000.
 */
final class RateLimiter {

    /** The outcome for one request, with the numbers for the {@code x-ratelimit-*} headers. */
    record Decision(boolean allowed, int limit, int remaining, long resetSeconds) {}

    private static final int MAX_TRACKED = 100_000;

    private final int perMinute;
    private final int burst;
    private final Map<String, double[]> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, double[]> eldest) {
            return size() > MAX_TRACKED;
        }
    };

    RateLimiter(int perMinute, int burst) {
        this.perMinute = perMinute;
        this.burst = Math.max(1, burst);
    }

    boolean enabled() {
        return perMinute > 0;
    }

    synchronized Decision take(String client, long nowNanos) {
        double[] bucket = buckets.computeIfAbsent(AddressBlocks.of(client), k -> new double[] {burst, nowNanos});
        double perNano = perMinute / 60e9;
        bucket[0] = Math.min(burst, bucket[0] + (nowNanos - bucket[1]) * perNano);
        bucket[1] = nowNanos;
        boolean allowed = bucket[0] >= 1;
        if (allowed) {
            bucket[0] -= 1;
        }
        long reset = (long) Math.ceil((allowed ? (burst - bucket[0]) : (1 - bucket[0])) / perNano / 1e9);
        return new Decision(allowed, perMinute, (int) Math.floor(bucket[0]), reset);
    }
}
