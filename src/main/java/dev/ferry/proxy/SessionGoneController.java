package dev.ferry.proxy;

import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.CacheControl;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.RequestMapping;

import dev.ferry.FerryProperties;

/**
 * What the portal answers for a session path the {@link FrontDoor} did not relay: the front door relays every request
 * for a known session itself, so what reaches this controller names no session ({@code /user/<id>} without the slash
 * after it, an unknown id, an ended session). It renders answers only, it relays nothing: a browser loading a page
 * gets a page it can act on (why the session ended, a link to launch the repository again); scripts and WebSockets get
 * the sentence as JSON.
 */
@Controller
class SessionGoneController {

    private final RouteTable routes;
    /** Where the page's links lead: {@code ferry.public-url}, or "" (the request's own host). */
    private final String portal;

    SessionGoneController(RouteTable routes, FerryProperties ferry) {
        this.routes = routes;
        this.portal = ferry.publicUrl() == null ? "" : ferry.publicUrl().replaceAll("/+$", "");
    }

    @RequestMapping(SessionPaths.PREFIX + "**")
    Object answer(HttpServletRequest request, HttpServletResponse response, Model model) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        String rest = path.substring(SessionPaths.PREFIX.length());
        int slash = rest.indexOf('/');
        String sessionId = slash < 0 ? rest : rest.substring(0, slash);
        if (slash < 0 && !sessionId.isEmpty() && routes.get(sessionId) != null) {
            String query = request.getQueryString();
            return ResponseEntity.status(HttpStatus.FOUND)
                    .header("Location", request.getRequestURI() + "/" + (query == null ? "" : "?" + query))
                    .build();
        }
        RouteTable.Ended ended =
                sessionId.isEmpty() ? null : routes.ended(sessionId).orElse(null);
        boolean upgrade = SessionPaths.isWebSocketUpgrade(request.getHeader("Upgrade"));
        if (upgrade || !isPageNavigation(request, rest.substring(slash < 0 ? rest.length() : slash + 1))) {
            String message = ended == null
                    ? "There is no session at this address. Sessions end when they are left idle; launch the repository again."
                    : "This session has ended: " + ended.reason() + " Launch the repository again to get a new one.";
            ResponseEntity.BodyBuilder answer = ResponseEntity.status(HttpStatus.NOT_FOUND)
                    .cacheControl(CacheControl.noStore())
                    .header("X-Content-Type-Options", "nosniff")
                    .contentType(MediaType.APPLICATION_JSON);
            if (upgrade) {
                answer.header("Connection", "close");
            }
            return answer.body(Map.of("message", message));
        }
        response.setStatus(HttpStatus.NOT_FOUND.value());
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
        response.setHeader("X-Content-Type-Options", "nosniff");
        model.addAttribute("ended", ended != null);
        model.addAttribute("reason", ended == null ? null : ended.reason());
        model.addAttribute("portal", portal);
        model.addAttribute("relaunch", ended == null || ended.relaunch() == null ? null : portal + ended.relaunch());
        return "session-gone";
    }

    /** A browser loading a page (not a script calling the API): it gets a page it can act on. */
    private static boolean isPageNavigation(HttpServletRequest request, String within) {
        String accept = request.getHeader("Accept");
        return accept != null
                && accept.contains("text/html")
                && "GET".equals(request.getMethod())
                && !within.startsWith("api/")
                && !within.startsWith("files/")
                && !within.startsWith("static/");
    }
}
