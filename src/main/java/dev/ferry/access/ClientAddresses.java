package dev.ferry.access;

import java.util.Collections;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The visitor's address: the connection's peer, or — when the peer is one of {@code ferry.trusted-proxies} — the
 * right-most address in {@code X-Forwarded-For} that is not itself a trusted proxy.
 */
public final class ClientAddresses {

    private final CidrSet trusted;

    ClientAddresses(CidrSet trusted) {
        this.trusted = trusted;
    }

    /** {@code trustedProxies}: {@code ferry.trusted-proxies}, CIDR blocks or single addresses. */
    public static ClientAddresses trusting(List<String> trustedProxies) {
        return new ClientAddresses(new CidrSet(trustedProxies, "ferry.trusted-proxies"));
    }

    public String of(HttpServletRequest request) {
        return of(request.getRemoteAddr(), Collections.list(request.getHeaders("X-Forwarded-For")));
    }

    /** Whether forwarding headers from {@code peer} are believed. */
    public boolean trusts(String peer) {
        return !trusted.isEmpty() && trusted.contains(peer);
    }

    /**
     * The visitor's address, given the connection's peer and every line of the request's {@code X-Forwarded-For}
     * (none: an empty list). Every line counts: a proxy that adds a line of its own leaves the visitor's first.
     */
    public String of(String peer, List<String> forwardedLines) {
        if (!trusts(peer) || forwardedLines.isEmpty()) {
            return peer;
        }
        String[] hops = String.join(",", forwardedLines).split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (!hop.isEmpty() && !trusted.contains(hop)) {
                return hop.matches("[0-9a-fA-F:.\\[\\]]+") ? hop : peer;
            }
        }
        return peer;
    }
}
