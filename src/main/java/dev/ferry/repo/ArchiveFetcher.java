package dev.ferry.repo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

import org.apache.http.Header;
import org.apache.http.HttpHost;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.config.RegistryBuilder;
import org.apache.http.conn.DnsResolver;
import org.apache.http.conn.socket.ConnectionSocketFactory;
import org.apache.http.conn.socket.PlainConnectionSocketFactory;
import org.apache.http.conn.ssl.SSLConnectionSocketFactory;
import org.apache.http.impl.NoConnectionReuseStrategy;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.BasicHttpClientConnectionManager;
import org.apache.http.protocol.HttpContext;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Fetches research records over HTTP(S) through the {@link UrlGuard}, the way git repositories are fetched: every
 * hop's URL is checked (scheme, host, addresses), the connection goes to exactly the addresses checked (no second
 * lookup, so DNS rebinding cannot redirect it), redirects are followed by hand and each new location is checked
 * before it is contacted (a DOI always redirects), and everything one fetch receives counts against one budget of
 * bytes and time ({@code ferry.repo.max-fetch-size}, {@code ferry.repo.max-fetch-time}). Bodies are streamed: API
 * answers are read up to {@link #MAX_JSON_BYTES}, files go straight to disk.
 */
public final class ArchiveFetcher {

    /** More hops than a DOI resolver, a landing page and a storage redirect ever need. */
    static final int MAX_REDIRECTS = 10;
    /** An API answer describing a record is a few KB; one of megabytes is not an answer. */
    static final int MAX_JSON_BYTES = 8 << 20;

    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final UrlGuard guard;
    private final Duration timeout;
    private final long maxBytes;
    private final Duration maxTime;
    private final UnaryOperator<InetSocketAddress> connectTo;

    /**
     * @param guard    decides which URLs may be fetched
     * @param timeout  connect and read timeout of each request
     * @param maxBytes bytes one fetch (all its requests) may receive; 0: no limit
     * @param maxTime  how long one fetch may take in all
     */
    public ArchiveFetcher(UrlGuard guard, Duration timeout, long maxBytes, Duration maxTime) {
        this(guard, timeout, maxBytes, maxTime, UnaryOperator.identity());
    }

    /** Tests route checked public addresses to stand-in servers on loopback; nothing else may use this. */
    ArchiveFetcher(
            UrlGuard guard,
            Duration timeout,
            long maxBytes,
            Duration maxTime,
            UnaryOperator<InetSocketAddress> connectTo) {
        this.guard = guard;
        this.timeout = timeout;
        this.maxBytes = maxBytes;
        this.maxTime = maxTime;
        this.connectTo = connectTo;
    }

    public UrlGuard guard() {
        return guard;
    }

    /** Starts one fetch: its requests share one budget of bytes and one deadline. */
    public Fetch begin() {
        return new Fetch(new GuardedConnectionFactory.Budget(guard, timeout, maxBytes, maxTime));
    }

    /** An answer of an API: its status, the URL that answered (after redirects), a header or two, and the JSON body. */
    public record JsonAnswer(int status, String url, JsonNode body, Optional<String> retryAfter) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** Where a chain of redirects ended, and that answer's status. */
    public record Landing(String url, int status) {}

    /** One fetch, with its budget. Not thread-safe; one fetch runs on one thread. */
    public final class Fetch {
        private final GuardedConnectionFactory.Budget budget;

        private Fetch(GuardedConnectionFactory.Budget budget) {
            this.budget = budget;
        }

        /**
         * Follows the redirects of {@code url} and returns where they lead (the first answer that is not a redirect),
         * and its status, without reading its body. A DOI resolver's answer names the record.
         */
        public Landing landing(String url) {
            try (Hop hop = follow(url, "text/html, */*")) {
                return new Landing(hop.url, hop.response.getStatusLine().getStatusCode());
            }
        }

        /** GETs JSON, following redirects; a body that is not JSON reads as an empty object. */
        public JsonAnswer json(String url) {
            try (Hop hop = follow(url, "application/json")) {
                int status = hop.response.getStatusLine().getStatusCode();
                Header retry = hop.response.getFirstHeader("Retry-After");
                byte[] body = hop.response.getEntity() == null
                        ? new byte[0]
                        : readBounded(hop.response.getEntity().getContent());
                JsonNode node;
                try {
                    node = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
                } catch (JacksonException e) {
                    node = JSON.createObjectNode();
                }
                return new JsonAnswer(
                        status, hop.url, node, Optional.ofNullable(retry).map(Header::getValue));
            } catch (IOException e) {
                throw failure(url, e);
            }
        }

        /**
         * Downloads {@code url} into the new file {@code target} (never through a link), following redirects; an
         * answer other than 2xx fails with a sentence naming {@code what}.
         */
        public void download(String url, Path target, String what) {
            try (Hop hop = follow(url, "*/*")) {
                int status = hop.response.getStatusLine().getStatusCode();
                if (status < 200 || status >= 300) {
                    throw new RepoException(
                            status == 404 || status == 410 ? 404 : 502,
                            "Downloading " + Urls.printable(what)
                                    + " from " + host(hop.url) + " failed (HTTP " + status
                                    + "). Launch again later; if it keeps "
                                    + "failing, the record's files may have been removed or restricted.");
                }
                try (InputStream in = hop.response.getEntity().getContent();
                        OutputStream out = Files.newOutputStream(
                                target,
                                StandardOpenOption.CREATE_NEW,
                                StandardOpenOption.WRITE,
                                LinkOption.NOFOLLOW_LINKS)) {
                    byte[] buffer = new byte[64 * 1024];
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        budget.count(n);
                        out.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                if (String.valueOf(e.getMessage()).contains("No space left on device")) {
                    throw RepoLimits.diskFull();
                }
                throw failure(url, e);
            }
        }

        private byte[] readBounded(InputStream in) throws IOException {
            try (in) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buffer = new byte[16 * 1024];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    budget.count(n);
                    out.write(buffer, 0, n);
                    if (out.size() > MAX_JSON_BYTES) {
                        throw new RepoException(
                                502,
                                "The record's API answered with more than " + RepoLimits.bytes(MAX_JSON_BYTES)
                                        + " of description, which is not a record. Launch again later.");
                    }
                }
                return out.toByteArray();
            }
        }

        /** GETs {@code url}, following redirects hop by hop, each new location checked by the guard first. */
        private Hop follow(String url, String accept) {
            String current = url;
            for (int hops = 0; ; hops++) {
                GuardedUrl checked = guard.check(current);
                Hop hop = get(checked, accept);
                int status = hop.response.getStatusLine().getStatusCode();
                Header location = hop.response.getFirstHeader("Location");
                if (!REDIRECTS.contains(status) || location == null) {
                    return hop;
                }
                hop.close();
                if (hops >= MAX_REDIRECTS) {
                    throw new RepoException(
                            508,
                            "Following " + Urls.redact(url) + " led through more than " + MAX_REDIRECTS
                                    + " redirects. Check the link; it may loop.");
                }
                try {
                    current = checked.uri().resolve(location.getValue().trim()).toString();
                } catch (IllegalArgumentException e) {
                    throw new RepoException(
                            502, host(current) + " redirected to an invalid address. Launch again later.");
                }
            }
        }

        private Hop get(GuardedUrl url, String accept) {
            try {
                budget.checkTime();
                CloseableHttpClient client = client();
                HttpGet get = new HttpGet(url.uri());
                get.setHeader("Accept", accept);
                get.setHeader("User-Agent", "Ferry (BinderHub-compatible)");
                return new Hop(url.url(), client, client.execute(get));
            } catch (IOException e) {
                throw failure(url.url(), e);
            }
        }

        /** A client that resolves through the guard, connects where the guard checked, follows and keeps nothing. */
        private CloseableHttpClient client() {
            DnsResolver pinned = guard::resolveForConnection;
            var sockets = RegistryBuilder.<ConnectionSocketFactory>create()
                    .register("http", new Routed(PlainConnectionSocketFactory.getSocketFactory()))
                    .register("https", new Routed(SSLConnectionSocketFactory.getSocketFactory()))
                    .build();
            int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1000, timeout.toMillis()));
            RequestConfig config = RequestConfig.custom()
                    .setConnectTimeout(millis)
                    .setSocketTimeout(millis)
                    .setConnectionRequestTimeout(millis)
                    .setRedirectsEnabled(false)
                    .setContentCompressionEnabled(false)
                    .build();
            return HttpClients.custom()
                    .setConnectionManager(new BasicHttpClientConnectionManager(sockets, null, null, pinned))
                    .setDefaultRequestConfig(config)
                    .disableRedirectHandling()
                    .disableAutomaticRetries()
                    .disableContentCompression()
                    .setConnectionReuseStrategy(NoConnectionReuseStrategy.INSTANCE)
                    .build();
        }

        private RepoException failure(String url, IOException e) {
            if (e instanceof GuardedConnectionFactory.RefusedConnection refused) {
                return refused.refusal;
            }
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof RepoException refusal) {
                    return refusal;
                }
            }
            if (e instanceof UnknownHostException) {
                return new RepoException(
                        400, "The host " + host(url) + " could not be found. Check the link for typos.");
            }
            if (e instanceof SocketTimeoutException || e instanceof InterruptedIOException) {
                return new RepoException(
                        504,
                        host(url) + " did not answer within " + RepoLimits.duration(timeout)
                                + " (ferry.repo.git-timeout). Launch again later.");
            }
            if (e instanceof ConnectException) {
                return new RepoException(502, "Could not connect to " + host(url) + ". Launch again later.");
            }
            return new RepoException(
                    502,
                    "Fetching from " + host(url) + " failed (" + e.getClass().getSimpleName()
                            + "). Launch again later.");
        }
    }

    /** A socket factory that connects to where the guard's addresses are routed (identity outside tests). */
    private final class Routed implements ConnectionSocketFactory {
        private final ConnectionSocketFactory delegate;

        Routed(ConnectionSocketFactory delegate) {
            this.delegate = delegate;
        }

        @Override
        public Socket createSocket(HttpContext context) throws IOException {
            return delegate.createSocket(context);
        }

        @Override
        public Socket connectSocket(
                int connectTimeout,
                Socket socket,
                HttpHost host,
                InetSocketAddress remoteAddress,
                InetSocketAddress localAddress,
                HttpContext context)
                throws IOException {
            return delegate.connectSocket(
                    connectTimeout, socket, host, connectTo.apply(remoteAddress), localAddress, context);
        }
    }

    /** One answered request; closing it closes the response and its client. */
    private static final class Hop implements AutoCloseable {
        final String url;
        final CloseableHttpClient client;
        final CloseableHttpResponse response;

        Hop(String url, CloseableHttpClient client, CloseableHttpResponse response) {
            this.url = url;
            this.client = client;
            this.response = response;
        }

        @Override
        public void close() {
            try {
                response.close();
                client.close();
            } catch (IOException e) {
                // nothing is kept open: the connection manager holds one connection, closed with the client
            }
        }
    }

    /** The host of a URL as sentences show it. */
    static String host(String url) {
        try {
            String host = URI.create(url).getHost();
            return host == null ? Urls.redact(url) : Urls.printable(host.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Urls.redact(url);
        }
    }
}
