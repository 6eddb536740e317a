package dev.ferry.testing;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Logs in to the operator dashboard the way its form does (GET the form for its CSRF token and cookie, POST the
 * credentials with both) and
 * hands back the session cookie for further requests: {@code Cookie: <cookie()>}.
 */
public record AdminLogin(String cookie, int status, String location, RawHttp.Response answer) {

    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");
    private static final Pattern SESSION = Pattern.compile("^(FERRY_ADMIN=[^;]*)");

    /** Logs in at {@code host} (its {@code Host} header) through Ferry's port; the cookie is null when it failed. */
    public static AdminLogin as(int port, String host, String username, String password) throws IOException {
        RawHttp.Response form = RawHttp.get(port, "/admin/login", Map.of("Host", host));
        Matcher token = CSRF.matcher(form.body());
        if (form.status() != 200 || !token.find()) {
            throw new IllegalStateException("no login form at /admin/login: " + form.status() + " " + form.body());
        }
        String formCookie = cookies(form);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", host);
        headers.put("Content-Type", "application/x-www-form-urlencoded");
        if (formCookie != null) {
            headers.put("Cookie", formCookie);
        }
        String body = "username=" + enc(username) + "&password=" + enc(password) + "&_csrf=" + enc(token.group(1));
        RawHttp.Response r = RawHttp.send(port, "POST", "/admin/login", headers, body);
        String location = r.header("Location");
        boolean in = r.status() == 302 && location != null && !location.contains("/admin/login");
        return new AdminLogin(in ? sessionCookie(r) : null, r.status(), location, r);
    }

    /** Logs in at 127.0.0.1 and returns the cookie, failing when the login fails. */
    public static String cookie(int port, String username, String password) throws IOException {
        AdminLogin login = as(port, "127.0.0.1:" + port, username, password);
        if (login.cookie() == null) {
            throw new IllegalStateException("the login failed: " + login.status() + " " + login.location());
        }
        return login.cookie();
    }

    /** Every {@code name=value} pair a response sets, as a {@code Cookie} value, or null when it sets none. */
    public static String cookies(RawHttp.Response r) {
        java.util.List<String> pairs =
                r.headers("Set-Cookie").stream().map(c -> c.split(";", 2)[0]).toList();
        return pairs.isEmpty() ? null : String.join("; ", pairs);
    }

    /** The {@code FERRY_ADMIN=…} pair a response sets, or null. */
    public static String sessionCookie(RawHttp.Response r) {
        for (String setCookie : r.headers("Set-Cookie")) {
            Matcher m = SESSION.matcher(setCookie);
            if (m.find()) {
                return m.group(1);
            }
        }
        return null;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
