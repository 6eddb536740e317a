package dev.ferry.proxy;

import java.util.Locale;
import java.util.Set;

/**
 * What of a visitor's request belongs to the portal and never goes on to a session's server, which runs a
 * repository's code: the portal's own cookies, and {@code Authorization} unless it carries Jupyter's token.
 * Both relays (the front door and the servlet) ask here, so they cannot drift apart.
 *
 * <p>Jupyter's clients (Thebe, {@code @jupyterlab/services}) authenticate with {@code Authorization: token …} (and
 * jupyter_server 2 also with {@code Bearer …}); a page sets those itself, browsers never add them on their own. Every
 * other scheme — above all {@code Basic}, which browsers do attach by themselves once a password was given for the
 * origin — is dropped.
 */
public final class PortalCredentials {

    /** The operator's login session (Path=/admin), set by the servlet container for the admin pages. */
    public static final String ADMIN_SESSION_COOKIE = "FERRY_ADMIN";
    /** The admin pages' CSRF token (Path=/admin), kept in a cookie so that the login form makes no session. */
    public static final String ADMIN_CSRF_COOKIE = "FERRY_ADMIN_CSRF";
    /** A workshop attendee's seat (Path=/e/&lt;slug&gt;), set by the workshop pages. */
    public static final String ATTENDEE_COOKIE = "ferry-attendee";
    /**
     * Every cookie the portal sets, by name. {@code JSESSIONID} is the container's default session cookie (Path=/),
     * which earlier versions of Ferry set for the admin pages: browsers may still hold one.
     */
    static final Set<String> PORTAL_COOKIES =
            Set.of(ADMIN_SESSION_COOKIE, ADMIN_CSRF_COOKIE, ATTENDEE_COOKIE, "JSESSIONID");

    private PortalCredentials() {}

    /** Whether an {@code Authorization} value may go on to a session: only Jupyter's own token schemes. */
    static boolean isJupyterToken(CharSequence authorization) {
        String value = authorization.toString().stripLeading().toLowerCase(Locale.ROOT);
        return value.startsWith("token ") || value.startsWith("bearer ");
    }

    /**
     * A {@code Cookie} value without the portal's cookies (the rest exactly as sent, in order), or null when none is
     * left.
     */
    static String sessionCookies(String cookie) {
        if (!mayHoldPortalCookie(cookie)) {
            return cookie; // the common case: nothing to take out, nothing copied
        }
        StringBuilder kept = new StringBuilder(cookie.length());
        for (String pair : cookie.split(";")) {
            String trimmed = pair.strip();
            int eq = trimmed.indexOf('=');
            String name = (eq < 0 ? trimmed : trimmed.substring(0, eq)).strip();
            if (trimmed.isEmpty() || PORTAL_COOKIES.contains(name)) {
                continue;
            }
            if (!kept.isEmpty()) {
                kept.append("; ");
            }
            kept.append(trimmed);
        }
        return kept.isEmpty() ? null : kept.toString();
    }

    private static boolean mayHoldPortalCookie(String cookie) {
        for (String name : PORTAL_COOKIES) {
            if (cookie.contains(name)) {
                return true;
            }
        }
        return false;
    }
}
