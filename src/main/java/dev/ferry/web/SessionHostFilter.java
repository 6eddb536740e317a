package dev.ferry.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.filter.OncePerRequestFilter;

import dev.ferry.FerryProperties;
import dev.ferry.proxy.SessionHosts;

/**
 * Keeps sessions and the portal apart when sessions have their own origins ({@code ferry.proxy.session-domain}). On a
 * session host {@code <id>.<domain>} only that session is served ({@code /} redirects to {@code /user/<id>/}); every
 * portal page (admin, launch pages, build API, health, …) and every other session's path answers 404, so script
 * from a repository can reach neither. On the portal's host, session paths are not served either: page loads are sent
 * to the session's own host, everything else gets 404.
 */
final class SessionHostFilter extends OncePerRequestFilter {

    private static final String PREFIX = "/user/";
    /** Plain static files the proxy's "session ended" page uses: no script, harmless on a session host. */
    private static final Set<String> SHARED_STATIC = Set.of("/ferry.css", "/favicon.svg");

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
        String host = request.getServerName();
        if (hosts.isSessionHost(host)) {
            String id = hosts.sessionIdOf(host);
            if (id != null && path.equals("/")) {
                String query = request.getQueryString();
                response.setStatus(302);
                response.setHeader("Location", request.getContextPath() + PREFIX + id + "/" + (query == null ? "" : "?" + query));
                return;
            }
            String own = id == null ? null : PREFIX + id;
            // both the raw path (what the proxy routes by) and the decoded, normalized one (what the container
            // dispatches by: /user/<id>/../../admin would reach the admin pages) must stay inside the session
            String mapped = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
            if (own != null && within(path, own) && within(mapped, own)
                    || SHARED_STATIC.contains(path) && SHARED_STATIC.contains(mapped)) {
                chain.doFilter(request, response);
                return;
            }
            refuse(response, "This address serves one notebook session only. Ferry's pages and other sessions are not "
                    + "reachable here.");
            return;
        }
        if (path.startsWith(PREFIX)) {
            String rest = path.substring(PREFIX.length());
            int slash = rest.indexOf('/');
            String id = slash < 0 ? rest : rest.substring(0, slash);
            boolean pageLoad = ("GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod()))
                    && request.getHeader("Upgrade") == null && id.matches("[a-z][a-z2-7]{31}");
            if (pageLoad) {
                // old path-style links keep working: the browser is sent to the session's own origin
                String query = request.getQueryString();
                String target = hosts.sessionUrl(PublicUrls.base(request, ferry), id)
                        + (slash < 0 ? "" : rest.substring(slash + 1)) + (query == null ? "" : "?" + query);
                response.setStatus(302);
                response.setHeader("Location", target);
                return;
            }
            refuse(response, "Sessions are served on their own host (<session id>." + hosts.domain() + "), not here.");
            return;
        }
        chain.doFilter(request, response);
    }

    private static boolean within(String path, String prefix) {
        return path.equals(prefix) || path.startsWith(prefix + "/");
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
