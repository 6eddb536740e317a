package dev.ferry.repo;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Proxy;
import java.net.URL;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.apache.http.HttpEntity;
import org.apache.http.HttpResponseInterceptor;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.config.RegistryBuilder;
import org.apache.http.conn.DnsResolver;
import org.apache.http.conn.socket.ConnectionSocketFactory;
import org.apache.http.conn.socket.PlainConnectionSocketFactory;
import org.apache.http.conn.ssl.SSLConnectionSocketFactory;
import org.apache.http.entity.HttpEntityWrapper;
import org.apache.http.impl.NoConnectionReuseStrategy;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.BasicHttpClientConnectionManager;
import org.eclipse.jgit.transport.http.HttpConnection;
import org.eclipse.jgit.transport.http.HttpConnectionFactory;
import org.eclipse.jgit.transport.http.JDKHttpConnectionFactory;
import org.eclipse.jgit.transport.http.apache.HttpClientConnection;

/**
 * JGit's HTTP connection factory for the git operation running on the current thread (JGit connects on the calling
 * thread). Each connection's host is resolved once, by the {@link UrlGuard}'s resolver, every address is checked, and
 * the socket connects to exactly those addresses (Apache HttpClient's {@link DnsResolver}): a name that answers a
 * public address to the check and a private one to the connection cannot slip through. Redirects are never followed
 * here, and a connection whose scheme is not among {@code ferry.repo.allowed-schemes} is refused (an alternate object
 * store named by the repository can be any URL). Response bodies count against the operation's {@link Budget} (bytes and time).
 */
final class GuardedConnectionFactory implements HttpConnectionFactory {

    private static final ThreadLocal<Budget> CURRENT = new ThreadLocal<>();
    private final HttpConnectionFactory unguarded = new JDKHttpConnectionFactory();

    /**
     * What one git operation may use: the guard, the per-read timeout, the bytes it may receive and the moment it
     * must be done by.
     */
    static final class Budget {
        final UrlGuard guard;
        final Duration timeout;
        final long maxBytes;
        final Duration maxTime;
        final long deadline;
        final AtomicLong received = new AtomicLong();

        Budget(UrlGuard guard, Duration timeout, long maxBytes, Duration maxTime) {
            this.guard = guard;
            this.timeout = timeout;
            this.maxBytes = maxBytes;
            this.maxTime = maxTime;
            this.deadline = System.nanoTime() + maxTime.toNanos();
        }

        void count(long bytes) throws IOException {
            if (maxBytes > 0 && received.addAndGet(bytes) > maxBytes) {
                throw new RefusedConnection(RepoLimits.tooLarge(maxBytes));
            }
            checkTime();
        }

        void checkTime() throws IOException {
            if (deadline - System.nanoTime() < 0) {
                throw new RefusedConnection(RepoLimits.tooSlow(maxTime));
            }
        }
    }

    static <T> T runGuarded(Budget budget, Supplier<T> action) {
        Budget previous = CURRENT.get();
        CURRENT.set(budget);
        try {
            return action.get();
        } finally {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }

    static Budget current() {
        return CURRENT.get();
    }

    @Override
    public HttpConnection create(URL url) throws IOException {
        return create(url, null);
    }

    @Override
    public HttpConnection create(URL url, Proxy proxy) throws IOException {
        Budget budget = CURRENT.get();
        if (budget == null) {
            return proxy == null ? unguarded.create(url) : unguarded.create(url, proxy);
        }
        budget.checkTime();
        // The URL was checked, but JGit opens more connections than the first: a dumb-HTTP repository's
        // objects/info/http-alternates names other URLs, of any scheme.
        String scheme = url.getProtocol().toLowerCase(Locale.ROOT);
        if (!budget.guard.allowedSchemes().contains(scheme)) {
            throw new RefusedConnection(RepoLimits.schemeNotAllowed(scheme, budget.guard.allowedSchemes()));
        }
        return new HttpClientConnection(url.toString(), proxy, client(budget));
    }

    /** A client that resolves through the guard, follows no redirect, keeps no connection and counts what it reads. */
    private static CloseableHttpClient client(Budget budget) {
        DnsResolver pinned = budget.guard::resolveForConnection; // a refusal (RepoException) passes through JGit
        var sockets = RegistryBuilder.<ConnectionSocketFactory>create()
                .register("http", PlainConnectionSocketFactory.getSocketFactory())
                .register("https", SSLConnectionSocketFactory.getSocketFactory())
                .build();
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1000, budget.timeout.toMillis()));
        RequestConfig config = RequestConfig.custom()
                .setConnectTimeout(timeoutMillis)
                .setSocketTimeout(timeoutMillis)
                .setConnectionRequestTimeout(timeoutMillis)
                .setRedirectsEnabled(false)
                .build();
        HttpResponseInterceptor counting = (response, context) -> {
            HttpEntity entity = response.getEntity();
            if (entity != null) {
                response.setEntity(new CountingEntity(entity, budget));
            }
        };
        return HttpClients.custom()
                .setConnectionManager(new BasicHttpClientConnectionManager(sockets, null, null, pinned))
                .setDefaultRequestConfig(config)
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .setConnectionReuseStrategy(NoConnectionReuseStrategy.INSTANCE)
                .addInterceptorLast(counting)
                .build();
    }

    private static final class CountingEntity extends HttpEntityWrapper {
        private final Budget budget;

        CountingEntity(HttpEntity entity, Budget budget) {
            super(entity);
            this.budget = budget;
        }

        @Override
        public InputStream getContent() throws IOException {
            return new FilterInputStream(super.getContent()) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        budget.count(1);
                    }
                    return b;
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    int n = super.read(buffer, offset, length);
                    if (n > 0) {
                        budget.count(n);
                    }
                    return n;
                }
            };
        }
    }

    /** Carries a guard refusal or a limit through JGit, which wraps I/O errors. */
    static final class RefusedConnection extends IOException {
        final RepoException refusal;

        RefusedConnection(RepoException refusal) {
            super(refusal.getMessage());
            this.refusal = refusal;
        }
    }
}
