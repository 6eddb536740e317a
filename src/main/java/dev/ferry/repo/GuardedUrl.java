package dev.ferry.repo;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;

/**
 * A repository URL that passed the {@link UrlGuard}: an allowed scheme, a host that resolved, and the addresses it
 * resolved to (all allowed).
 */
public record GuardedUrl(URI uri, String host, List<InetAddress> addresses) {

    /** The URL as Ferry fetches it (may contain credentials: never log or show this). */
    public String url() {
        return uri.toString();
    }

    /** The URL safe to log and show: credentials replaced by {@code ***}. */
    public String redacted() {
        return Urls.redact(uri.toString());
    }

    @Override
    public String toString() {
        return redacted();
    }
}
