package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.test.context.TestPropertySource;

import dev.ferry.testing.AdminLogin;
import dev.ferry.testing.RawHttp;

/**
 * Per-session origins ({@code ferry.proxy.session-domain}): each session on {@code <id>.sessions.ferry.test}, the
 * portal's pages refused there, and no session reachable from another's host or from the portal's. Requests go to
 * 127.0.0.1 with the Host header a browser would send for that name (nothing resolves {@code *.ferry.test}).
 */
@TestPropertySource(properties = {"ferry.proxy.session-domain=sessions.ferry.test", "ferry.admin.password=op-secret"})
class SessionDomainTest extends TwoSessionsTestSupport {

    private static final String DOMAIN = "sessions.ferry.test";

    @Override
    String repoPrefix() {
        return "dom";
    }

    /** A valid operator login, made on the portal's host (the cookie a browser would hold for it). */
    private String adminCookie() throws Exception {
        return AdminLogin.cookie(port, "admin", "op-secret");
    }

    private String hostOf(String id) {
        return id + "." + DOMAIN + ":" + port;
    }

    private RawHttp.Response get(String host, String target, String... headers) throws Exception {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", host);
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        return RawHttp.get(port, target, h);
    }

    @Test
    void theReadyUrlIsTheSessionsOwnHost() {
        assertThat(readyA.get("url")).isEqualTo("http://" + hostOf(a) + "/user/" + a + "/");
        assertThat(readyA.get("binder_launch_host")).isEqualTo(base() + "/");
    }

    @Test
    void theSessionIsServedOnItsHost() throws Exception {
        RawHttp.Response contents = get(hostOf(a), "/user/" + a + "/api/contents", "Authorization", "token " + aToken);
        assertThat(contents.status()).isEqualTo(200);
        assertThat(contents.body()).contains("a-marker.txt");
        RawHttp.Response root = get(hostOf(a), "/?token=x");
        assertThat(root.status()).isEqualTo(302);
        assertThat(root.header("Location")).isEqualTo("/user/" + a + "/?token=x");
    }

    @Test
    void aSessionHostDoesNotReachAnotherSession() throws Exception {
        RawHttp.Response r = get(hostOf(a), "/user/" + b + "/api/contents", "Authorization", "token " + bToken);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).doesNotContain("b-marker.txt");
        RawHttp.Response unknownHost =
                get("nosuchsession." + DOMAIN, "/user/" + b + "/api/contents", "Authorization", "token " + bToken);
        assertThat(unknownHost.status()).isEqualTo(404);
        RawHttp.Response tricked =
                get(hostOf(a), "/user/" + a + "/../" + b + "/api/contents", "Authorization", "token " + bToken);
        assertThat(tricked.status()).isIn(400, 404);
        assertThat(tricked.body()).doesNotContain("b-marker.txt");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/admin",
                "/admin/",
                "/admin/api/workshops",
                "/admin/workshops",
                "/launch?repo=x",
                "/v2/git/https%3A%2F%2Fexample.org%2Fr.git/HEAD",
                "/build/git/https%3A%2F%2Fexample.org%2Fr.git/HEAD",
                "/health",
                "/versions",
                "/metrics",
                "/actuator/prometheus",
                "/api/repoproviders",
                "/badge_logo.svg",
                "/home.js",
                "/launch.js",
                "/repo/org/repo",
                "/e/some-workshop",
                "/docs/configuration.md",
                "/user/SELF/../../admin",
                "/user/SELF/%2e%2e/%2e%2e/admin",
                "/user/SELF/..;/..;/admin"
            })
    void portalPagesAreRefusedOnASessionHost(String path) throws Exception {
        RawHttp.Response r = get(hostOf(a), path.replace("SELF", a), "Cookie", adminCookie());
        assertThat(r.status()).as(path).isIn(400, 404);
        assertThat(r.body())
                .as(path)
                .doesNotContainIgnoringCase("dashboard")
                .doesNotContain("\"ok\"")
                .doesNotContain("<script");
    }

    /**
     * Path tricks on a session's host are answered by the front door itself (its JSON answer, not the servlet
     * container's): they never reach the portal, whose pages they aim at.
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "/..%2fadmin",
                "/%2e%2e/admin",
                "/user/SELF/..;/..;/admin",
                "/user/SELF/%2e%2e/%2e%2e/admin",
                "/user/SELF/../OTHER/api/contents",
                "/user/SELF/%2e%2E/OTHER/api/contents"
            })
    void pathTricksOnASessionHostAreRefusedAtTheFrontDoor(String path) throws Exception {
        RawHttp.Response r = get(
                hostOf(a),
                path.replace("SELF", a).replace("OTHER", b),
                "Cookie",
                adminCookie(),
                "Authorization",
                "token " + bToken);
        assertThat(r.header("Content-Type")).as(path).startsWith("application/json");
        if (path.startsWith("/user/")) { // the session's own path, with a trick in it
            assertThat(r.status()).as(path).isEqualTo(400);
            assertThat(r.body()).as(path).contains("segments, backslashes or semicolons are not accepted");
        } else {
            assertThat(r.status()).as(path).isEqualTo(404);
            assertThat(r.body()).as(path).contains("serves one notebook session only");
        }
        assertThat(r.body()).as(path).doesNotContain("b-marker.txt");
    }

    @Test
    void theBareDomainAndDeeperNamesServeNothing() throws Exception {
        assertThat(get(DOMAIN + ":" + port, "/").status()).isEqualTo(404);
        assertThat(get(DOMAIN + ":" + port, "/admin", "Cookie", adminCookie()).status())
                .isEqualTo(404);
        RawHttp.Response deeper =
                get("x." + hostOf(a), "/user/" + a + "/api/contents", "Authorization", "token " + aToken);
        assertThat(deeper.status()).isEqualTo(404);
        assertThat(deeper.body()).doesNotContain("a-marker.txt");
    }

    @Test
    void thePortalHostSendsPageLoadsToTheSessionHostAndServesNoSession() throws Exception {
        String portal = "127.0.0.1:" + port;
        RawHttp.Response page = get(portal, "/user/" + a + "/tree?token=" + aToken, "Accept", "text/html");
        assertThat(page.status()).isEqualTo(302);
        assertThat(page.header("Location")).isEqualTo("http://" + hostOf(a) + "/user/" + a + "/tree?token=" + aToken);
        RawHttp.Response post = RawHttp.send(
                port,
                "POST",
                "/user/" + a + "/api/kernels",
                Map.of("Host", portal, "Authorization", "token " + aToken, "Content-Type", "application/json"),
                "{}");
        assertThat(post.status()).isEqualTo(404);
        assertThat(post.body()).doesNotContain("\"id\"");
    }

    @Test
    void portalPagesStillWorkOnThePortalHost() throws Exception {
        String portal = "127.0.0.1:" + port;
        assertThat(get(portal, "/").status()).isEqualTo(200);
        assertThat(get(portal, "/health").status()).isEqualTo(200);
        assertThat(get(portal, "/admin", "Cookie", adminCookie()).status()).isEqualTo(200);
        assertThat(AdminLogin.as(port, portal, "admin", "op-secreT").cookie())
                .as("a wrong password logs in")
                .isNull();
    }

    @Test
    void cookieAuthenticatedWebSocketsAcceptOnlyTheSessionsOwnOrigin() throws Exception {
        RawHttp.Response kernel = RawHttp.send(
                port,
                "POST",
                "/user/" + a + "/api/kernels",
                Map.of("Host", hostOf(a), "Authorization", "token " + aToken, "Content-Type", "application/json"),
                "{}");
        assertThat(kernel.status()).as(kernel.body()).isEqualTo(201);
        String kernelId = kernel.body().replaceFirst("(?s).*\"id\": ?\"([^\"]+)\".*", "$1");

        RawHttp.Response login = get(hostOf(a), "/user/" + a + "/tree?token=" + aToken, "Accept", "text/html");
        assertThat(login.status()).isEqualTo(200);
        List<String> cookies = new ArrayList<>();
        login.headers("Set-Cookie").forEach(c -> cookies.add(c.substring(0, c.indexOf(';'))));
        String cookie = String.join("; ", cookies);

        String channels = "/user/" + a + "/api/kernels/" + kernelId + "/channels";
        assertThat(handshake(channels, cookie, "http://" + hostOf(a)).status()).isEqualTo(101);
        assertThat(handshake(channels, cookie, "http://127.0.0.1:" + port).status())
                .as("the portal's origin")
                .isEqualTo(403);
        assertThat(handshake(channels, cookie, "http://" + hostOf(b)).status())
                .as("another session's origin")
                .isEqualTo(403);
    }

    private RawHttp.Response handshake(String path, String cookie, String origin) throws Exception {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", hostOf(a));
        h.put("Upgrade", "websocket");
        h.put("Connection", "Upgrade");
        h.put("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        h.put("Sec-WebSocket-Version", "13");
        h.put("Origin", origin);
        h.put("Cookie", cookie);
        return RawHttp.head(port, path, h);
    }
}
