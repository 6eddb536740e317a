package dev.ferry.proxy;

import java.net.URI;
import java.util.Locale;

/**
 * Per-session origins ({@code ferry.proxy.session-domain}): when a domain is set, session {@code <id>} is served at
 * {@code <scheme>://<id>.<domain>/user/<id>/}, so that each session is its own browser origin and its pages can script
 * neither the portal nor another session. Jupyter keeps its base URL {@code /user/<id>/}; only the host changes.
 */
public final class SessionHosts {

    private final String domain;

    /** {@code domain}: e.g. {@code sessions.example.org}; empty or null: sessions are served on the portal's host. */
    public SessionHosts(String domain) {
        String d = domain == null ? "" : domain.trim().toLowerCase(Locale.ROOT);
        while (d.startsWith(".") || d.startsWith("*.")) {
            d = d.substring(d.indexOf('.') + 1);
        }
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        if (!d.isEmpty() && !d.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")) {
            throw new IllegalArgumentException(
                    "ferry.proxy.session-domain must be a DNS name such as sessions.example.org, not '" + domain + "'");
        }
        this.domain = d;
    }

    public boolean enabled() {
        return !domain.isEmpty();
    }

    public String domain() {
        return domain;
    }

    /** Whether the host (a Host header's name, without port) is the session domain or a name under it. */
    public boolean isSessionHost(String host) {
        if (!enabled() || host == null) {
            return false;
        }
        String h = normalize(host);
        return h.equals(domain) || h.endsWith("." + domain);
    }

    /** The session id a session host names ({@code <id>.<domain>}), or null (not a session host, or not one label). */
    public String sessionIdOf(String host) {
        if (!isSessionHost(host)) {
            return null;
        }
        String h = normalize(host);
        if (h.length() <= domain.length() + 1) {
            return null;
        }
        String label = h.substring(0, h.length() - domain.length() - 1);
        return label.isEmpty() || label.contains(".") ? null : label;
    }

    /**
     * The absolute URL of a session's server as visitors open it: {@code <publicBase>/user/<id>/}, or with a session
     * domain {@code <scheme>://<id>.<domain>[:<port>]/user/<id>/}, scheme and port taken from {@code publicBase}.
     */
    public String sessionUrl(String publicBase, String sessionId) {
        String path = SessionPaths.PREFIX + sessionId + "/";
        if (!enabled()) {
            return publicBase + path;
        }
        URI base = URI.create(publicBase);
        return base.getScheme() + "://" + sessionId + "." + domain + (base.getPort() < 0 ? "" : ":" + base.getPort())
                + path;
    }

    private static String normalize(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
