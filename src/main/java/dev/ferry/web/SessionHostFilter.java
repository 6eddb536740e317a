package dev.ferry.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.filter.OncePerRequestFilter;

import dev.ferry.FerryProperties;
import dev.ferry.proxy.SessionHosts;

/**
 * The portal's side of per-session origins ({@code ferry.proxy.session-domain}): on the portal's host, session paths
 * are not served — page loads are sent to the session's own host, everything else gets 404. What a session's own host
 * ({@code <id>.<domain>}) serves is decided by the front door before a request gets here ({@code VisitorConnection}):
 * it relays the session's paths, refuses the portal's pages and other sessions there, and passes on only that
 * session's own paths (when the session is unknown or ended) and the plain static files of the "session ended" page.
 */
final class SessionHostFilter extends OncePerRequestFilter {

    private static final String PREFIX = "/user/";

    private final SessionHosts hosts;
    private final FerryProperties ferry;

    SessionHostFilter(SessionHosts hosts, FerryProperties ferry) {
        this.hosts = hosts;
        this.ferry = ferry;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (hosts.isSessionHost(request.getServerName())) {
            chain.doFilter(request, response); // the front door let it through
            return;
        }
        if (path.startsWith(PREFIX)) {
            String rest = path.substring(PREFIX.length());
            int slash = rest.indexOf('/');
            String id = slash < 0 ? rest : rest.substring(0, slash);
            boolean pageLoad = ("GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod()))
                    && request.getHeader("Upgrade") == null
                    && id.matches("[a-z][a-z2-7]{31}");
            if (pageLoad) {
                // old path-style links keep working: the browser is sent to the session's own origin
                String query = request.getQueryString();
                String target = hosts.sessionUrl(PublicUrls.base(request, ferry), id)
                        + (slash < 0 ? "" : rest.substring(slash + 1))
                        + (query == null ? "" : "?" + query);
                response.setStatus(302);
                response.setHeader("Location", target);
                return;
            }
            refuse(response, "Sessions are served on their own host (<session id>." + hosts.domain() + "), not here.");
            return;
        }
        chain.doFilter(request, response);
    }

    private static void refuse(HttpServletResponse response, String message) throws IOException {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(404);
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setContentType("text/plain;charset=UTF-8");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return true;
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return false;
    }
}
