package dev.ferry.repo;

import java.io.IOException;
import java.net.Proxy;
import java.net.URL;

import org.eclipse.jgit.transport.http.HttpConnection;
import org.eclipse.jgit.transport.http.HttpConnectionFactory;
import org.eclipse.jgit.transport.http.JDKHttpConnectionFactory;

/**
 * JGit's HTTP connection factory, checking each connection's host against the {@link UrlGuard} of the git operation
 * running on the current thread (JGit connects on the calling thread). The host is resolved again at connection
 * time, so a name that started resolving to a private address after the first check is refused.
 */
final class GuardedConnectionFactory implements HttpConnectionFactory {

    private static final ThreadLocal<UrlGuard> CURRENT = new ThreadLocal<>();
    private final HttpConnectionFactory delegate = new JDKHttpConnectionFactory();

    static void runGuarded(UrlGuard guard, Runnable action) {
        UrlGuard previous = CURRENT.get();
        CURRENT.set(guard);
        try {
            action.run();
        } finally {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }

    @Override
    public HttpConnection create(URL url) throws IOException {
        check(url);
        return delegate.create(url);
    }

    @Override
    public HttpConnection create(URL url, Proxy proxy) throws IOException {
        check(url);
        return delegate.create(url, proxy);
    }

    private static void check(URL url) throws IOException {
        UrlGuard guard = CURRENT.get();
        if (guard == null) {
            return;
        }
        try {
            String host = url.getHost();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            guard.checkConnection(host);
        } catch (RepoException refused) {
            throw new RefusedConnection(refused);
        }
    }

    /** Carries a guard refusal through JGit, which wraps I/O errors. */
    static final class RefusedConnection extends IOException {
        final RepoException refusal;

        RefusedConnection(RepoException refusal) {
            super(refusal.getMessage());
            this.refusal = refusal;
        }
    }
}
