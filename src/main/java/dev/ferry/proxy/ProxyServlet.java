package dev.ferry.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.util.HtmlUtils;

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
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
            "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization", "expect", "content-length",
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip", "forwarded");
    private static final Pattern DOT_SEGMENT = Pattern.compile("(^|/)(\\.|%2e){1,2}(/|$)", Pattern.CASE_INSENSITIVE);

    private final transient RouteTable routes;
    private final transient UpstreamPool pool;
    private final transient Executor tunnelExecutor;
    private final transient ProxyMetrics metrics;

    public ProxyServlet(RouteTable routes, Executor tunnelExecutor, ProxyMetrics metrics, int connectTimeoutMillis,
                        int readTimeoutMillis) {
        this.routes = routes;
        this.tunnelExecutor = tunnelExecutor;
        this.metrics = metrics;
        this.pool = new UpstreamPool(connectTimeoutMillis, readTimeoutMillis);
    }

    /** Closes pooled connections to a session's server (its route was removed). */
    public void forget(Route route) {
        pool.closeAll(route.host(), route.port());
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
        if (DOT_SEGMENT.matcher(path).find()) {
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
        if (isUpgrade(req)) {
            tunnel(req, resp, route);
        } else {
            forward(req, resp, route);
        }
    }

    static boolean isUpgrade(HttpServletRequest req) {
        String upgrade = req.getHeader("Upgrade");
        return upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket");
    }

    private void forward(HttpServletRequest req, HttpServletResponse resp, Route route) throws IOException {
        long contentLength = req.getContentLengthLong();
        String te = req.getHeader("Transfer-Encoding");
        boolean chunkedBody = contentLength < 0 && te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
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
            writeHead(req, conn, route, contentLength, chunkedBody, false);
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
            if (conn.reused && !hasBody) {
                // A kept-alive connection the server had closed: retry once on a new one.
                try {
                    conn = pool.open(route.host(), route.port());
                    writeHead(req, conn, route, contentLength, false, false);
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
            if (reusable && head.keepAlive()) {
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

    private void writeHead(HttpServletRequest req, UpstreamConnection conn, Route route, long contentLength,
                           boolean chunked, boolean upgrade) throws IOException {
        StringBuilder head = new StringBuilder(512);
        String query = req.getQueryString();
        head.append(req.getMethod()).append(' ').append(req.getRequestURI());
        if (query != null) {
            head.append('?').append(query);
        }
        head.append(" HTTP/1.1\r\n");
        Set<String> connectionTokens = connectionTokens(req);
        for (Enumeration<String> names = req.getHeaderNames(); names.hasMoreElements(); ) {
            String name = names.nextElement();
            String lower = name.toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower) || connectionTokens.contains(lower)) {
                continue;
            }
            for (Enumeration<String> values = req.getHeaders(name); values.hasMoreElements(); ) {
                head.append(name).append(": ").append(values.nextElement()).append("\r\n");
            }
        }
        head.append("X-Forwarded-For: ").append(req.getRemoteAddr()).append("\r\n");
        head.append("X-Real-IP: ").append(req.getRemoteAddr()).append("\r\n");
        head.append("X-Forwarded-Proto: ").append(upgrade ? (req.isSecure() ? "wss" : "ws") : req.getScheme()).append("\r\n");
        String host = req.getHeader("Host");
        if (host != null) {
            head.append("X-Forwarded-Host: ").append(host).append("\r\n");
        }
        head.append("X-Forwarded-Port: ").append(req.getServerPort()).append("\r\n");
        if (upgrade) {
            head.append("Connection: Upgrade\r\nUpgrade: websocket\r\n");
        } else if (contentLength >= 0) {
            head.append("Content-Length: ").append(contentLength).append("\r\n");
        } else if (chunked) {
            head.append("Transfer-Encoding: chunked\r\n");
        }
        head.append("\r\n");
        conn.out.write(ResponseHead.ascii(head.toString()));
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
        OutputStream out = conn.out;
        byte[] buffer = new byte[BUFFER];
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
            if (chunked) {
                out.write(ResponseHead.ascii(Integer.toHexString(n) + "\r\n"));
                out.write(buffer, 0, n);
                out.write('\r');
                out.write('\n');
            } else {
                out.write(buffer, 0, n);
                left -= n;
            }
            if (available(in) == 0) {
                out.flush(); // the visitor has nothing more buffered: pass on what arrived, don't wait for more
            }
        }
        if (chunked) {
            out.write(ResponseHead.ascii("0\r\n\r\n"));
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
        for (String[] h : head.headers) {
            String lower = h[0].toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(lower)) {
                resp.addHeader(h[0], h[1]);
            }
        }
        boolean noBody = req.getMethod().equals("HEAD") || head.status == 204 || head.status == 304
                || (head.status >= 100 && head.status < 200);
        long length = head.contentLength();
        if (length >= 0 && !head.chunked() && head.status != 204 && head.status != 304) {
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
        byte[] buffer = new byte[BUFFER];
        if (head.chunked()) {
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
                write(out, buffer, n, conn.in);
                left -= n;
            }
            return true;
        }
        int n;
        while ((n = conn.in.read(buffer)) != -1) {
            route.touch();
            write(out, buffer, n, conn.in);
        }
        return false;
    }

    private static void copyChunked(InputStream in, ServletOutputStream out, byte[] buffer, Route route) throws IOException {
        int[] budget = {64 * 1024};
        while (true) {
            String sizeLine = ResponseHead.readLine(in, budget, false);
            budget[0] = 64 * 1024;
            int semicolon = sizeLine.indexOf(';');
            long size;
            try {
                size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("malformed chunk size from upstream");
            }
            if (size == 0) {
                while (!ResponseHead.readLine(in, budget, false).isEmpty()) {
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
            ResponseHead.readLine(in, budget, false); // CRLF after the chunk
        }
    }

    /** Writes to the visitor; flushes when the server has nothing more buffered, so streamed responses stay live. */
    private static void write(ServletOutputStream out, byte[] buffer, int n, InputStream upstream) throws IOException {
        try {
            out.write(buffer, 0, n);
            if (upstream.available() == 0) {
                out.flush();
            }
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    private void tunnel(HttpServletRequest req, HttpServletResponse resp, Route route) throws IOException {
        UpstreamConnection conn;
        try {
            conn = pool.open(route.host(), route.port());
        } catch (IOException e) {
            upstreamDown(req, resp, route, e);
            return;
        }
        ResponseHead head;
        try {
            writeHead(req, conn, route, -1, false, true);
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
        for (String[] h : head.headers) {
            String lower = h[0].toLowerCase(Locale.ROOT);
            if (lower.startsWith("sec-websocket-") || lower.equals("set-cookie")) {
                resp.addHeader(h[0], h[1]);
            }
        }
        resp.setHeader("Upgrade", "websocket");
        resp.setHeader("Connection", "Upgrade");
        try {
            WebSocketTunnel tunnel = req.upgrade(WebSocketTunnel.class);
            tunnel.attach(conn, route, tunnelExecutor, metrics);
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
        String message = e instanceof ConnectException
                ? "The notebook server of this session is not accepting connections. It may have stopped; launch the repository again if this persists."
                : "The notebook server of this session did not answer properly. Try again; launch the repository again if this persists.";
        plain(resp, 502, message, isUpgrade(req));
    }

    private void notFound(HttpServletRequest req, HttpServletResponse resp, String sessionId) throws IOException {
        String reason = sessionId == null ? null : routes.endReason(sessionId).orElse(null);
        String message = reason == null
                ? "There is no session at this address. Sessions end when they are left idle; launch the repository again."
                : "This session has ended: " + reason + " Launch the repository again to get a new one.";
        boolean upgrade = isUpgrade(req);
        String accept = req.getHeader("Accept");
        if (!upgrade && accept != null && accept.contains("text/html")) {
            resp.setStatus(404);
            resp.setHeader("Cache-Control", "no-store");
            resp.setContentType("text/html;charset=UTF-8");
            byte[] body = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Session not found · Ferry</title>"
                    + "<link rel=\"stylesheet\" href=\"/ferry.css\"></head><body><main class=\"narrow\"><h1>Session not found</h1><p>"
                    + HtmlUtils.htmlEscape(message) + "</p><p><a class=\"button\" href=\"/\">Launch a repository</a></p></main></body></html>")
                    .getBytes(StandardCharsets.UTF_8);
            resp.setContentLength(body.length);
            resp.getOutputStream().write(body);
            return;
        }
        plain(resp, 404, message, upgrade);
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
