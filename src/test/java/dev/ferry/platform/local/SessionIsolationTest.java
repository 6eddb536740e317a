package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.RawHttp;

/**
 * Two real sessions, A and B, side by side: what opens A — its token, its cookies, its URL prefix with any path
 * trick — never opens B. "Never opens B" is checked by content: B's home holds {@code b-marker.txt}, and B's listing
 * must not come back from any request that was not made with B's own token on B's own URL.
 */
@ExtendWith(OutputCaptureExtension.class)
class SessionIsolationTest extends TwoSessionsTestSupport {

    @Override
    String repoPrefix() {
        return "iso";
    }

    private RawHttp.Response get(String target, String... headers) throws Exception {
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        return RawHttp.get(port, target, h);
    }

    @Test
    void eachSessionOpensWithItsOwnToken() throws Exception {
        RawHttp.Response ownB = get("/user/" + b + "/api/contents", "Authorization", "token " + bToken);
        assertThat(ownB.status()).isEqualTo(200);
        assertThat(ownB.body()).contains("b-marker.txt");
        RawHttp.Response ownA = get("/user/" + a + "/api/contents?token=" + aToken);
        assertThat(ownA.status()).isEqualTo(200);
        assertThat(ownA.body()).contains("a-marker.txt").doesNotContain("b-marker.txt");
    }

    @Test
    void anotherSessionsTokenInTheAuthorizationHeaderIsRefused() throws Exception {
        RawHttp.Response r = get("/user/" + b + "/api/contents", "Authorization", "token " + aToken);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).doesNotContain("b-marker.txt");
    }

    @Test
    void anotherSessionsTokenInTheQueryIsRefused() throws Exception {
        RawHttp.Response api = get("/user/" + b + "/api/contents?token=" + aToken);
        assertThat(api.status()).isEqualTo(403);
        assertThat(api.body()).doesNotContain("b-marker.txt");
        RawHttp.Response page = get("/user/" + b + "/tree?token=" + aToken, "Accept", "text/html");
        assertThat(page.status()).isEqualTo(302);
        assertThat(page.header("Location")).startsWith("/user/" + b + "/login");
        assertThat(page.headers("Set-Cookie")).noneMatch(c -> c.startsWith("username-"));
    }

    @Test
    void anotherSessionsCookiesAreRefused() throws Exception {
        RawHttp.Response login = get("/user/" + a + "/tree?token=" + aToken, "Accept", "text/html");
        assertThat(login.status()).isEqualTo(200);
        List<String> cookies = new ArrayList<>();
        for (String setCookie : login.headers("Set-Cookie")) {
            assertThat(setCookie)
                    .as("every cookie is scoped to the session's path")
                    .contains("Path=/user/" + a + "/");
            cookies.add(setCookie.substring(0, setCookie.indexOf(';')));
        }
        assertThat(cookies).anyMatch(c -> c.startsWith("username-"));
        String cookieHeader = String.join("; ", cookies);

        RawHttp.Response onA = get("/user/" + a + "/api/contents", "Cookie", cookieHeader);
        assertThat(onA.status()).as("the cookies open A").isEqualTo(200);
        assertThat(onA.body()).contains("a-marker.txt");

        RawHttp.Response onB = get("/user/" + b + "/api/contents", "Cookie", cookieHeader);
        assertThat(onB.status()).isEqualTo(403);
        assertThat(onB.body()).doesNotContain("b-marker.txt");
        RawHttp.Response pageOnB = get("/user/" + b + "/tree", "Cookie", cookieHeader, "Accept", "text/html");
        assertThat(pageOnB.status()).isEqualTo(302);
        assertThat(pageOnB.header("Location")).startsWith("/user/" + b + "/login");
    }

    /**
     * Path tricks under A's prefix, sent with B's token: had any reached B's server, B would list its files. The
     * status says who stopped it: 400 from Ferry's front door (dot segments, backslashes, semicolons), 404 from Ferry
     * (no such session) or from A's own server (the trick stayed inside A, where it names no file).
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "/user/A/../B/api/contents | 400",
                "/user/A/%2e%2e/B/api/contents | 400",
                "/user/A/%2E%2E/B/api/contents | 400",
                "/user/A/.%2e/B/api/contents | 400",
                "/user/A/./../B/api/contents | 400",
                "/user/./B/api/contents | 400",
                "/user/A;x=y/../B/api/contents | 400",
                "/user/A/..\\B/api/contents | 400",
                "/user/A/%5c..%5cB/api/contents | 400",
                "/user/A/..%2FB/api/contents | 404",
                "/user/A%2F..%2FB/api/contents | 404",
                "/user/A/%252e%252e/B/api/contents | 404",
                "/user/A/%252e%252e%252fB/api/contents | 404",
                "/user/A/..;/B/api/contents | 400",
                "/x/../user/B/api/contents | 404",
            })
    void pathTricksNeverReachAnotherSession(String trick, int status) throws Exception {
        String target = trick.replace("A", a).replace("B", b);
        RawHttp.Response r = get(target, "Authorization", "token " + bToken);
        assertThat(r.body()).as(trick).doesNotContain("b-marker.txt");
        assertThat(r.status()).as(trick).isEqualTo(status);
    }

    @Test
    void aSessionIdWithPathParametersIsNotAnotherSession() throws Exception {
        RawHttp.Response r = get("/user/" + a + ";x=y/api/contents", "Authorization", "token " + aToken);
        assertThat(r.status())
                .as("refused at the front door: no session id carries path parameters")
                .isEqualTo(400);
        assertThat(r.body()).doesNotContain("a-marker.txt");
    }

    @Test
    void tokensNeverAppearInTheLog(CapturedOutput output) throws Exception {
        Map<String, Object> ready = launch(GIT.createRepo("iso-log", files("README.md", "# log\n")), "main")
                .last();
        String token = (String) ready.get("token");
        String id = sessionId(ready);
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), token);
        assertThat(jupyter.get("api/contents").statusCode()).isEqualTo(200);
        assertThat(get("/user/" + id + "/api/contents?token=" + token).status()).isEqualTo(200);
        assertThat(get("/user/" + id + "/tree?token=" + token, "Accept", "text/html")
                        .status())
                .isEqualTo(200);
        String kernel = jupyter.startKernel();
        assertThat(jupyter.execute(kernel, "print(1)")).isEqualTo("1\n");
        sessions.stop(id, "the test ended.");
        assertThat(get("/user/" + id + "/api/contents?token=" + token).status()).isEqualTo(404);

        assertThat(output.getAll()).contains(id).doesNotContain(token);
    }
}
