package dev.ferry.web;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Security headers of the portal's own responses: a Content-Security-Policy suited to each kind of page,
 * {@code X-Content-Type-Options: nosniff} and {@code Referrer-Policy}. Proxied session responses ({@code /user/…})
 * are never touched: Jupyter sets its own, and the proxy's "no session here" page sets its own too.
 */
final class PortalHeadersFilter extends OncePerRequestFilter {

    /** Pages: own scripts and styles only, no plugins, no foreign frames of them. */
    static final String PAGE_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";
    /** The operator's pages: as pages, and never framed (clickjacking of the stop buttons). */
    static final String ADMIN_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    /** SVG (badges, QR codes) and other static data opened directly: drawn, never run. */
    static final String IMAGE_POLICY =
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";
    /** APIs and event streams: nothing in them is ever meant to run. */
    static final String API_POLICY = "default-src 'none'; frame-ancestors 'none'";

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (!path.startsWith("/user/")) {
            response.setHeader("Content-Security-Policy", policyFor(path));
            response.setHeader("X-Content-Type-Options", "nosniff");
            response.setHeader("Referrer-Policy", "same-origin");
        }
        chain.doFilter(request, response);
    }

    static String policyFor(String path) {
        if (path.startsWith("/admin")) {
            return ADMIN_POLICY;
        }
        if (path.endsWith(".svg")) {
            return IMAGE_POLICY;
        }
        if (path.startsWith("/build/")
                || path.startsWith("/api/")
                || path.startsWith("/actuator")
                || path.endsWith("/events")
                || path.equals("/health")
                || path.equals("/versions")
                || path.equals("/metrics")) {
            return API_POLICY;
        }
        return PAGE_POLICY;
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return true;
    }
}
