package dev.ferry.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The notebook proxy: {@code /user/<session id>/**} to that session's server. HTTP requests go over pooled
 * keep-alive connections with bodies streamed both ways (never buffered whole); WebSocket upgrades are forwarded to
 * the server and, once it answers 101, tunnelled byte for byte ({@link WebSocketTunnel}). The visitor's Host header is
 * kept (servers run with {@code allow_remote_access}) so Jupyter's Origin checks see the visitor's view, and
 * {@code X-Forwarded-*} headers say where the request came from. Unknown and ended sessions get 404 at once,
 * WebSocket upgrades included, with the connection closed.
 */
public final class ProxyServlet extends HttpServlet {

    private static final Logger log = LoggerFactory.getLogger(ProxyServlet.class);
    static final String PREFIX = "/user/";
    private static final int BUFFER = 64 * 1024;
    /** One copy buffer per Tomcat worker thread: a new 64 KiB buffer per request would be most of the proxy's garbage. */
    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[BUFFER]);
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
            "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization", "expect", "content-length",
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip", "forwarded");
    private static final Pattern DOT_SEGMENT = Pattern.compile("(^|/)(\\.|%2e){1,2}(/|$)", Pattern.CASE_INSENSITIVE);

    private final transient RouteTable routes;
    private final transient UpstreamPool pool;
    /** Reads the server side of every WebSocket tunnel: a thread per core, not a thread per tunnel. */
    private final transient TunnelSelector tunnels = new TunnelSelector(Runtime.getRuntime().availableProcessors());
    private final transient ProxyMetrics metrics;
    /** Where the "session ended" page's links lead: {@code ferry.public-url}, or "" (the request's own host). */
    private final String portal;
    private final transient SessionEndedPage endedPage;
    private final int readTimeoutMillis;

    public ProxyServlet(RouteTable routes, ProxyMetrics metrics, int connectTimeoutMillis, int readTimeoutMillis) {
        this(routes, metrics, connectTimeoutMillis, readTimeoutMillis, "");
    }

    /** {@code portalUrl}: the portal's public URL, for links from pages served on session hosts; "" for relative links. */
    public ProxyServlet(RouteTable routes, ProxyMetrics metrics, int connectTimeoutMillis, int readTimeoutMillis,
                        String portalUrl) {
        this.portal = portalUrl == null ? "" : portalUrl.replaceAll("/+$", "");
        this.endedPage = new SessionEndedPage(portal);
        this.routes = routes;
        this.metrics = metrics;
        this.readTimeoutMillis = readTimeoutMillis;
        this.pool = new UpstreamPool(connectTimeoutMillis, readTimeoutMillis);
    }

    /** Closes pooled connections to a session's server (its route was removed). */
    public void forget(Route route) {
        pool.closeAll(route.host(), route.port());
    }

    /** Stops the tunnels' selector threads (open tunnels are closed with them). */
    @Override
    public void destroy() {
        tunnels.close();
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String uri = req.getRequestURI();
        String contextPath = req.getContextPath();
        String path = uri.substring(contextPath.length());
        if (!path.startsWith(PREFIX)) {
            notFound(req, resp, null);
            return;
        }
        String rest = path.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        String sessionId = slash < 0 ? rest : rest.substring(0, slash);
        if (hasDotSegment(path)) {
            plain(resp, 400, "Paths with . or .. segments are not accepted.", isUpgrade(req));
            return;
        }
        Route route = routes.get(sessionId);
        if (route == null) {
            notFound(req, resp, sessionId);
            return;
        }
        if (slash < 0) {
            String query = req.getQueryString();
            resp.setStatus(302);
            resp.setHeader("Location", uri + "/" + (query == null ? "" : "?" + query));
            return;
        }
        route.touch();
        if (isUpgrade(req) && !chunkedBody(req) && req.getContentLengthLong() <= 0) {
            tunnel(req, resp, route); // (an upgrade request with a body goes on as a plain request: the body is no tunnel's)
        } else {
            forward(req, resp, route);
        }
    }

    /** {@code .} or {@code ..} as a path segment, also %-encoded: never passed on (they could climb to another session). */
    static boolean hasDotSegment(String path) {
        if (path.indexOf("/.") < 0 && path.indexOf('%') < 0) {
            return false; // the common case, without a regular expression
        }
        return DOT_SEGMENT.matcher(path).find();
    }

    /** The request's body comes in chunks (Tomcat refuses other transfer codings before this servlet). */
    private static boolean chunkedBody(HttpServletRequest req) {
        String te = req.getHeader("Transfer-Encoding");
        return req.getContentLengthLong() < 0 && te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
    }

    static boolean isUpgrade(HttpServletRequest req) {
        String upgrade = req.getHeader("Upgrade");
        return upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket");
    }

    private void forward(HttpServletRequest req, HttpServletResponse resp, Route route) throws IOException {
        long contentLength = req.getContentLengthLong();
        boolean chunkedBody = chunkedBody(req);
        boolean hasBody = contentLength > 0 || chunkedBody;
        UpstreamConnection conn;
        try {
            conn = pool.acquire(route.host(), route.port());
        } catch (IOException e) {
            upstreamDown(req, resp, route, e);
            return;
        }
        ResponseHead head;
        try {
            writeHead(req, conn, contentLength, chunkedBody, false);
            if (hasBody) {
                copyBody(req, conn, route, contentLength, chunkedBody);
            }
            conn.out.flush();
            head = readFinalHead(conn);
        } catch (ClientGone e) {
            conn.close();
            return;
        } catch (IOException e) {
            conn.close();
            // A stale kept-alive connection fails at once; a server that stopped answering (timeout) gets no second wait.
            if (conn.reused && !hasBody && !(e instanceof SocketTimeoutException) && idempotent(req.getMethod())) {
                // A kept-alive connection the server had closed: retry once on a new one. Only a request that may be
                // repeated (RFC 9110 9.2.2): the server may have acted on it before closing.
                try {
                    conn = pool.open(route.host(), route.port());
                    writeHead(req, conn, contentLength, false, false);
                    conn.out.flush();
                    head = readFinalHead(conn);
                } catch (IOException retry) {
                    conn.close();
                    upstreamDown(req, resp, route, retry);
                    return;
                }
            } else {
                upstreamDown(req, resp, route, e);
                return;
            }
        }
        try {
            boolean reusable = relayResponse(req, resp, head, conn, route);
            if (reusable && head.keepAlive) {
                pool.release(conn);
            } else {
                conn.close();
            }
        } catch (ClientGone e) {
            conn.close();
        } catch (IOException e) {
            conn.close();
            metrics.upstreamError();
            if (!resp.isCommitted()) {
                upstreamDown(req, resp, route, e);
            } else {
                // The server broke off a response already under way: end the visitor's connection without
                // completing the body, so the visitor sees an error rather than a truncated "complete" response.
                throw new UpstreamBroke(e);
            }
        }
    }

    private static ResponseHead readFinalHead(UpstreamConnection conn) throws IOException {
        ResponseHead head = ResponseHead.read(conn.in);
        while (head.status >= 100 && head.status < 200 && head.status != 101) {
            head = ResponseHead.read(conn.in);
        }
        return head;
    }

    private void writeHead(HttpServletRequest req, UpstreamConnection conn, long contentLength,
                           boolean chunked, boolean upgrade) throws IOException {
        UpstreamConnection.Output out = conn.out;
        String query = req.getQueryString();
        out.ascii(req.getMethod()).ascii(" ").ascii(req.getRequestURI());
        if (query != null) {
            out.ascii("?").ascii(query);
        }
        out.ascii(" HTTP/1.1").crlf();
        Set<String> connectionTokens = connectionTokens(req);
        for (Enumeration<String> names = req.getHeaderNames(); names.hasMoreElements(); ) {
            String name = names.nextElement();
            String lower = name.toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower) || (!connectionTokens.isEmpty() && connectionTokens.contains(lower))) {
                continue;
            }
            for (Enumeration<String> values = req.getHeaders(name); values.hasMoreElements(); ) {
                String value = towardSession(lower, values.nextElement());
                if (value != null) {
                    out.ascii(name).ascii(": ").ascii(value).crlf();
                }
            }
        }
        String remote = req.getRemoteAddr();
        out.ascii("X-Forwarded-For: ").ascii(remote).crlf();
        out.ascii("X-Real-IP: ").ascii(remote).crlf();
        out.ascii("X-Forwarded-Proto: ").ascii(upgrade ? (req.isSecure() ? "wss" : "ws") : req.getScheme()).crlf();
        String host = req.getHeader("Host");
        if (host != null) {
            out.ascii("X-Forwarded-Host: ").ascii(host).crlf();
        }
        out.ascii("X-Forwarded-Port: ").ascii(Integer.toString(req.getServerPort())).crlf();
        if (upgrade) {
            out.ascii("Connection: Upgrade").crlf().ascii("Upgrade: websocket").crlf();
        } else if (contentLength >= 0) {
            out.ascii("Content-Length: ").ascii(Long.toString(contentLength)).crlf();
        } else if (chunked) {
            out.ascii("Transfer-Encoding: chunked").crlf();
        }
        out.crlf();
    }

    /** A request header's value as the session's server gets it, or null: the portal's credentials stay here. */
    private static String towardSession(String lowerName, String value) {
        return switch (lowerName) {
            case "authorization" -> PortalCredentials.isJupyterToken(value) ? value : null;
            case "cookie" -> PortalCredentials.sessionCookies(value);
            default -> value;
        };
    }

    private static Set<String> connectionTokens(HttpServletRequest req) {
        Enumeration<String> values = req.getHeaders("Connection");
        if (values == null || !values.hasMoreElements()) {
            return Collections.emptySet();
        }
        Set<String> tokens = new HashSet<>();
        for (String value : Collections.list(values)) {
            for (String token : value.split(",")) {
                tokens.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        return tokens;
    }

    private void copyBody(HttpServletRequest req, UpstreamConnection conn, Route route, long contentLength,
                          boolean chunked) throws IOException {
        InputStream in = req.getInputStream();
        UpstreamConnection.Output out = conn.out;
        byte[] buffer = BUFFERS.get();
        long left = contentLength;
        while (chunked || left > 0) {
            int n;
            try {
                n = in.read(buffer, 0, chunked ? buffer.length : (int) Math.min(buffer.length, left));
            } catch (IOException e) {
                throw new ClientGone(e);
            }
            if (n < 0) {
                if (chunked) {
                    break;
                }
                throw new ClientGone(new EOFException("request body ended early"));
            }
            route.touch();
            metrics.bytes(n);
            if (chunked) {
                out.ascii(Integer.toHexString(n)).crlf();
                out.write(buffer, 0, n);
                out.crlf();
            } else {
                out.write(buffer, 0, n);
                left -= n;
            }
            if (available(in) == 0) {
                out.flush(); // the visitor has nothing more buffered: pass on what arrived, don't wait for more
            }
        }
        if (chunked) {
            out.ascii("0").crlf().crlf();
        }
    }

    private static int available(InputStream in) throws ClientGone {
        try {
            return in.available();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    /** Sends the server's response to the visitor. Returns true when the upstream connection can be reused. */
    private boolean relayResponse(HttpServletRequest req, HttpServletResponse resp, ResponseHead head,
                                  UpstreamConnection conn, Route route) throws IOException {
        resp.setStatus(head.status);
        List<String> headers = head.headers;
        for (int i = 0; i < headers.size(); i += 2) {
            String name = headers.get(i);
            String lower = name.toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(lower) && !lower.equals("www-authenticate")) {
                resp.addHeader(name, headers.get(i + 1));
            }
        }
        boolean noBody = req.getMethod().equals("HEAD") || head.status == 204 || head.status == 304
                || (head.status >= 100 && head.status < 200);
        long length = head.contentLength;
        if (length >= 0 && head.status != 204 && head.status != 304) {
            resp.setContentLengthLong(length);
        }
        if (noBody) {
            return true;
        }
        ServletOutputStream out;
        try {
            out = resp.getOutputStream();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
        byte[] buffer = BUFFERS.get();
        if (head.chunked) {
            copyChunked(conn.in, out, buffer, route);
            return true;
        }
        if (length >= 0) {
            long left = length;
            while (left > 0) {
                int n = conn.in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new EOFException("upstream ended the body early");
                }
                route.touch();
                metrics.bytes(n);
                left -= n;
                // the last piece is flushed by Tomcat when the response completes: one write instead of two
                write(out, buffer, n, left > 0 ? conn.in : null);
            }
            return true;
        }
        int n;
        while ((n = conn.in.read(buffer)) != -1) {
            route.touch();
            metrics.bytes(n);
            write(out, buffer, n, conn.in);
        }
        return false;
    }

    private static void copyChunked(InputStream in, ServletOutputStream out, byte[] buffer, Route route) throws IOException {
        while (true) {
            ResponseHead.LineReader lines = new ResponseHead.LineReader(in);
            String sizeLine = lines.next(false);
            int semicolon = sizeLine.indexOf(';');
            long size;
            try {
                size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("malformed chunk size from upstream");
            }
            if (size == 0) {
                while (!lines.next(false).isEmpty()) {
                    // trailers are dropped
                }
                return;
            }
            long left = size;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new EOFException("upstream ended a chunk early");
                }
                route.touch();
                write(out, buffer, n, in);
                left -= n;
            }
            lines.next(false); // CRLF after the chunk
        }
    }

    /**
     * Writes to the visitor; flushes when the server has nothing more buffered, so streamed responses stay live
     * ({@code upstream} null: the body is complete and Tomcat flushes it with the end of the response).
     */
    private static void write(ServletOutputStream out, byte[] buffer, int n, InputStream upstream) throws IOException {
        try {
            out.write(buffer, 0, n);
            if (upstream != null && upstream.available() == 0) {
                out.flush();
            }
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    private void tunnel(HttpServletRequest req, HttpServletResponse resp, Route route) throws IOException {
        UpstreamConnection conn;
        try {
            conn = pool.openSelectable(route.host(), route.port());
        } catch (IOException e) {
            upstreamDown(req, resp, route, e);
            return;
        }
        ResponseHead head;
        try {
            writeHead(req, conn, -1, false, true);
            conn.out.flush();
            head = ResponseHead.read(conn.in);
        } catch (IOException e) {
            conn.close();
            upstreamDown(req, resp, route, e);
            return;
        }
        if (head.status != 101) {
            // The server refused the upgrade (403 for a bad origin, 404, …): pass its answer on, then close.
            try {
                resp.setHeader("Connection", "close");
                relayResponse(req, resp, head, conn, route);
            } catch (IOException e) {
                // visitor or server gone
            } finally {
                conn.close();
            }
            return;
        }
        for (int i = 0; i < head.headers.size(); i += 2) {
            String name = head.headers.get(i);
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.startsWith("sec-websocket-") || lower.equals("set-cookie")) {
                resp.addHeader(name, head.headers.get(i + 1));
            }
        }
        resp.setHeader("Upgrade", "websocket");
        resp.setHeader("Connection", "Upgrade");
        try {
            WebSocketTunnel tunnel = req.upgrade(WebSocketTunnel.class);
            tunnel.attach(conn.channel(), conn.in.takeBuffered(), route, tunnels, metrics);
        } catch (Exception e) {
            conn.close();
            throw new IOException("upgrade failed", e);
        }
    }

    private void upstreamDown(HttpServletRequest req, HttpServletResponse resp, Route route, IOException e) throws IOException {
        metrics.upstreamError();
        if (routes.get(route.sessionId()) == null) {
            notFound(req, resp, route.sessionId());
            return;
        }
        log.debug("session {}: upstream {} failed: {}", route.sessionId(), route, e.toString());
        if (e instanceof SocketTimeoutException) {
            plain(resp, 504, timedOut(readTimeoutMillis), isUpgrade(req));
            return;
        }
        plain(resp, 502, e instanceof ConnectException ? NOT_ACCEPTING : NO_PROPER_ANSWER, isUpgrade(req));
    }

    static final String NOT_ACCEPTING = "The notebook server of this session is not accepting connections. It may have "
            + "stopped; launch the repository again if this persists.";
    static final String NO_PROPER_ANSWER = "The notebook server of this session did not answer properly. Try again; "
            + "launch the repository again if this persists.";

    static String timedOut(long readTimeoutMillis) {
        return "The notebook server of this session did not answer within "
                + dev.ferry.Durations.human(java.time.Duration.ofMillis(readTimeoutMillis)) + ". It may be busy with a "
                + "long computation or stuck; try again, and launch the repository again if this persists.";
    }

    private void notFound(HttpServletRequest req, HttpServletResponse resp, String sessionId) throws IOException {
        RouteTable.Ended ended = sessionId == null ? null : routes.ended(sessionId).orElse(null);
        String message = ended == null
                ? "There is no session at this address. Sessions end when they are left idle; launch the repository again."
                : "This session has ended: " + ended.reason() + " Launch the repository again to get a new one.";
        boolean upgrade = isUpgrade(req);
        if (!upgrade && isPageNavigation(req, sessionId)) {
            resp.setStatus(404);
            resp.setHeader("Cache-Control", "no-store");
            resp.setHeader("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
            resp.setContentType("text/html;charset=UTF-8");
            String title = ended == null ? "There is no session here" : "This session has ended";
            String reason = ended == null ? "Sessions end when they are left idle, and their address stops working."
                    : "It ended because " + ended.reason();
            String relaunch = ended == null || ended.relaunch() == null ? null : ended.relaunch();
            String html = endedPage.render(title, reason, relaunch);
            byte[] body = html.getBytes(StandardCharsets.UTF_8);
            resp.setContentLength(body.length);
            resp.getOutputStream().write(body);
            return;
        }
        plain(resp, 404, message, upgrade);
    }

    /** A browser loading a page (not a script calling the API): it gets a page it can act on. */
    private static boolean isPageNavigation(HttpServletRequest req, String sessionId) {
        String accept = req.getHeader("Accept");
        if (accept == null || !accept.contains("text/html") || !"GET".equals(req.getMethod())) {
            return false;
        }
        String rest = sessionId == null ? "" : req.getRequestURI().substring(Math.min(req.getRequestURI().length(),
                req.getContextPath().length() + PREFIX.length() + sessionId.length() + 1));
        return !rest.startsWith("api/") && !rest.startsWith("files/") && !rest.startsWith("static/");
    }

    private static void plain(HttpServletResponse resp, int status, String message, boolean close) throws IOException {
        resp.setStatus(status);
        resp.setHeader("Cache-Control", "no-store");
        if (close) {
            resp.setHeader("Connection", "close");
        }
        resp.setContentType("application/json;charset=UTF-8");
        byte[] body = ("{\"message\":\"" + jsonEscape(message) + "\"}").getBytes(StandardCharsets.UTF_8);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** Methods RFC 9110 (9.2.2) lets a client or proxy send again when a connection closed before the answer. */
    static boolean idempotent(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
            default -> false;
        };
    }

    static String jsonEscape(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '<' -> out.append("\\u003c");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    /** The visitor's side failed (closed the connection, aborted an upload): nothing can be answered. */
    private static final class ClientGone extends IOException {
        ClientGone(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** The server broke off a response that was already being sent. */
    static final class UpstreamBroke extends IOException {
        UpstreamBroke(IOException cause) {
            super("the notebook server broke off the response", cause);
        }
    }
}
