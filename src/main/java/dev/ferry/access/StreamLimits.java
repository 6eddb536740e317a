package dev.ferry.access;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.ferry.AddressBlocks;
import dev.ferry.FerryException;

/**
 * How many event streams may be open at once, per client address and in all: each open stream holds a thread (a
 * platform thread on Java 17) for as long as the client keeps it, so without a bound a client could hold them by the
 * thousand. A stream takes a {@link Permit} before it starts and gives it back, once, however it ends. Workshop streams
 * count towards the total only: how many one address may hold is the workshop's seats per address.
 */
public final class StreamLimits {

    /** A place among the open streams; {@link #close()} gives it back (more than once is harmless). */
    public final class Permit implements AutoCloseable {
        /** The address counted, or null when only the total counts. */
        private final String client;

        private final AtomicBoolean open = new AtomicBoolean(true);

        private Permit(String client) {
            this.client = client;
        }

        @Override
        public void close() {
            if (open.compareAndSet(true, false)) {
                release(client);
            }
        }
    }

    private final int perAddress;
    private final int total;
    private final Map<String, Integer> open = new HashMap<>();
    private int openTotal;

    /** {@code perAddress}, {@code total}: the bounds, 0 for none. */
    StreamLimits(int perAddress, int total) {
        this.perAddress = perAddress;
        this.total = total;
    }

    /** A permit for a stream of {@code client}; a {@link FerryException} (429 or 503) when a bound is reached. */
    public synchronized Permit acquire(String client) {
        refuseBeyondTotal();
        client = AddressBlocks.of(client);
        int mine = open.getOrDefault(client, 0);
        if (perAddress > 0 && mine >= perAddress) {
            throw new FerryException(
                    429,
                    "Your address already follows " + mine + " launches at once, the most this Ferry "
                            + "allows. Close some launch pages, or wait for their launches to finish, then try again.");
        }
        open.put(client, mine + 1);
        openTotal++;
        return new Permit(client);
    }

    /** A permit counted towards the total only; a {@link FerryException} (503) when the total is reached. */
    public synchronized Permit acquireInTotal() {
        refuseBeyondTotal();
        openTotal++;
        return new Permit(null);
    }

    private void refuseBeyondTotal() {
        if (total > 0 && openTotal >= total) {
            throw new FerryException(
                    503,
                    "This Ferry is following as many launches as it can (" + total + " at once). "
                            + "Try again in a minute.");
        }
    }

    public synchronized int open() {
        return openTotal;
    }

    private synchronized void release(String client) {
        openTotal--;
        if (client != null) {
            open.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
        }
    }
}
