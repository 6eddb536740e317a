package dev.ferry.web;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.ferry.AddressBlocks;

/**
 * Counts operator login attempts, per client address and over all addresses, in fixed windows. An attempt is taken
 * <em>before</em> the password is checked (the check is a deliberately slow hash): once an address — or everyone
 * together — used up its attempts, further ones are refused without any hashing until the window ends. A successful
 * login gives its address's attempts back. Logins are rare, so one lock is plenty.
 */
final class LoginThrottle {

    /**
     * Why an attempt was refused, and when the next one may come; {@code first}: the first refusal of its window (the
     * one worth a log line — a flood of refused attempts must not flood the log).
     */
    record Refusal(boolean everyone, Duration retryAfter, boolean first) {

        String sentence() {
            long minutes = Math.max(1, (retryAfter.toSeconds() + 59) / 60);
            String wait = minutes == 1 ? "a minute" : minutes + " minutes";
            return everyone
                    ? "Too many failed logins to this Ferry recently; logins are paused. Try again in " + wait + "."
                    : "Too many failed logins from your address; try again in " + wait + ".";
        }
    }

    private static final class Window {
        long start;
        int attempts;
        boolean refused;

        boolean firstRefusal() {
            boolean first = !refused;
            refused = true;
            return first;
        }
    }

    private final int perAddress;
    private final int global;
    private final long windowMillis;
    private final Clock clock;
    private final Map<String, Window> addresses = new HashMap<>();
    private final Window everyone = new Window();

    LoginThrottle(int perAddress, int global, Duration window, Clock clock) {
        this.perAddress = perAddress;
        this.global = global;
        this.windowMillis = window.toMillis();
        this.clock = clock;
    }

    /**
     * Takes one attempt for {@code address}: null when it may go ahead, else why not. Only an attempt that goes ahead
     * is remembered, so the addresses kept are bounded by the global limit (a flood from many addresses adds none).
     */
    synchronized Refusal attempt(String address) {
        long now = clock.millis();
        if (addresses.size() > 1000) {
            addresses.values().removeIf(w -> now - w.start >= windowMillis);
        }
        address = AddressBlocks.of(address);
        Window own = addresses.get(address);
        if (own != null && current(own, now).attempts >= perAddress) {
            return new Refusal(false, Duration.ofMillis(own.start + windowMillis - now), own.firstRefusal());
        }
        Window all = current(everyone, now);
        if (all.attempts >= global) {
            return new Refusal(true, Duration.ofMillis(all.start + windowMillis - now), all.firstRefusal());
        }
        if (own == null) {
            own = current(new Window(), now);
            addresses.put(address, own);
        }
        own.attempts++;
        all.attempts++;
        return null;
    }

    /** The attempt from {@code address} was the right password: its attempts are given back. */
    synchronized void succeeded(String address) {
        Window own = addresses.remove(AddressBlocks.of(address));
        if (own != null && everyone.attempts > 0 && own.start >= everyone.start) {
            everyone.attempts = Math.max(0, everyone.attempts - own.attempts);
        }
    }

    /** Failed attempts from {@code address} in its current window (for the log). */
    synchronized int failures(String address) {
        Window own = addresses.get(AddressBlocks.of(address));
        return own == null ? 0 : own.attempts;
    }

    /** How many addresses are remembered: bounded by the global limit per window (and old windows are dropped). */
    synchronized int addressesKept() {
        return addresses.size();
    }

    int perAddress() {
        return perAddress;
    }

    private Window current(Window w, long now) {
        if (w.attempts == 0 || now - w.start >= windowMillis) {
            w.start = now;
            w.attempts = 0;
            w.refused = false;
        }
        return w;
    }
}
