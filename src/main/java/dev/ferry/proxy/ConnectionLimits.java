package dev.ferry.proxy;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import dev.ferry.AddressBlocks;

/**
 * How many visitor connections the {@link FrontDoor} holds open at once: in all, and from one address. Every accepted
 * connection counts until it closes — kept-alive, slow and idle ones and WebSocket tunnels alike — so that no one
 * (a few thousand slow connections, one busy address) can take the file descriptors everyone else needs.
 *
 * <p>An address is the TCP peer's: forwarding headers are not read yet when a connection is accepted. IPv6 peers count
 * per /64, the block one host is usually given. Peers among {@code ferry.trusted-proxies} carry many visitors on their
 * connections and are held to the global cap only; such a proxy must limit its own clients.
 */
final class ConnectionLimits {

    /** Why a connection was turned away. */
    enum Refusal {
        GLOBAL,
        ADDRESS
    }

    private final int max;
    private final int perAddress;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> byAddress = new ConcurrentHashMap<>();

    /** {@code perAddress} 0 or less: no cap per address. */
    ConnectionLimits(int max, int perAddress) {
        this.max = max;
        this.perAddress = perAddress;
    }

    /**
     * Counts a new connection from {@code peer} ({@code exempt}: a trusted proxy's, held to the global cap only).
     * Returns null when it may stay (the caller then {@link #release}s it once closed), else why it may not.
     */
    Refusal admit(InetAddress peer, boolean exempt) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return Refusal.GLOBAL;
        }
        if (exempt || perAddress <= 0) {
            return null;
        }
        boolean[] admitted = {false};
        byAddress.compute(key(peer), (address, n) -> {
            int count = n == null ? 0 : n;
            if (count >= perAddress) {
                return n;
            }
            admitted[0] = true;
            return count + 1;
        });
        if (!admitted[0]) {
            open.decrementAndGet();
            return Refusal.ADDRESS;
        }
        return null;
    }

    /** A connection {@link #admit}ted with the same arguments has closed. */
    void release(InetAddress peer, boolean exempt) {
        open.decrementAndGet();
        if (!exempt && perAddress > 0) {
            byAddress.computeIfPresent(key(peer), (address, n) -> n <= 1 ? null : n - 1);
        }
    }

    int open() {
        return open.get();
    }

    int max() {
        return max;
    }

    int perAddress() {
        return perAddress;
    }

    /** The address as counted: an IPv4 address, or an IPv6 address's /64. */
    static String key(InetAddress peer) {
        return AddressBlocks.of(peer);
    }

    /**
     * The global cap that fits in {@code maxFileDescriptors} (the process's open-file limit; 0 or less: unknown): each
     * relayed visitor holds three descriptors in this process at worst (its own, the front door's connection onward,
     * and the servlet container's end of it when the portal answers), and an eighth of the limit, at least 256, stays
     * for everything else (the servlet container, JGit, jars, logs, builds).
     */
    static int fitToFileLimit(int configured, long maxFileDescriptors) {
        if (maxFileDescriptors <= 0) {
            return configured;
        }
        long spare = Math.max(256, maxFileDescriptors / 8);
        long fits = Math.max(1, (maxFileDescriptors - spare) / 3);
        return (int) Math.min(configured, fits);
    }
}
