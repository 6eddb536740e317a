package dev.ferry.web;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The visitor's address: the connection's peer, or — when the peer is one of {@code ferry.trusted-proxies} — the
 * right-most address in {@code X-Forwarded-For} that is not itself a trusted proxy.
 */
final class ClientAddresses {

    private final CidrSet trusted;

    ClientAddresses(CidrSet trusted) {
        this.trusted = trusted;
    }

    String of(HttpServletRequest request) {
        String peer = request.getRemoteAddr();
        if (trusted.isEmpty() || !trusted.contains(peer)) {
            return peer;
        }
        String forwarded = request.getHeader("X-Forwarded-For");
        if (forwarded == null || forwarded.isBlank()) {
            return peer;
        }
        String[] hops = forwarded.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (!hop.isEmpty() && !trusted.contains(hop)) {
                return hop.matches("[0-9a-fA-F:.\\[\\]]+") ? hop : peer;
            }
        }
        return peer;
    }
}
