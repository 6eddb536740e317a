package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ferry.platform.local.LocalPlatformTestSupport;
import dev.ferry.testing.RawHttp;

/**
 * The portal's pages against hostile input: security headers on every portal response (and none added to proxied
 * ones), everything a visitor typed escaped where it is shown, no CR/LF into a response header, and no launch link
 * that sends the session's token anywhere but to its own server.
 */
class PortalHardeningTest extends LocalPlatformTestSupport {

    private static final String XSS = "\"><svg onload=alert(1)><script>alert('x')</script>";

    private static String pathEncode(String text) {
        return encode(text).replace("+", "%20");
    }

    private RawHttp.Response get(String target) throws Exception {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Accept", "text/html");
        return RawHttp.get(port, target, h);
    }

    @Test
    void pagesSendCspNosniffAndReferrerPolicy() throws Exception {
        for (String path : new String[] {"/", "/v2/git/" + encode("https://example.org/r.git") + "/HEAD"}) {
            RawHttp.Response r = get(path);
            assertThat(r.header("Content-Security-Policy"))
                    .as(path)
                    .contains("default-src 'self'")
                    .contains("script-src 'self'")
                    .contains("frame-ancestors 'self'")
                    .doesNotContain("unsafe-inline");
            assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(r.header("Referrer-Policy")).isEqualTo("same-origin");
        }
        assertThat(get("/admin").header("Content-Security-Policy")).contains("frame-ancestors 'none'");
        RawHttp.Response badge = get("/badge_logo.svg");
        assertThat(badge.status()).isEqualTo(200);
        assertThat(badge.header("Content-Security-Policy"))
                .startsWith("default-src 'none'")
                .doesNotContain("script-src");
        assertThat(get("/health").header("Content-Security-Policy"))
                .isEqualTo("default-src 'none'; frame-ancestors 'none'");
    }

    @Test
    void proxiedAndProxyAnswersGetNoPortalHeaders() throws Exception {
        RawHttp.Response r = get("/user/nosuchsessionaaaaaaaaaaaaaaaaaaa/tree");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.headers("Content-Security-Policy")).containsExactly("default-src 'self'; frame-ancestors 'none'");
        assertThat(r.header("Referrer-Policy")).isNull();
    }

    @Test
    void aHostileRefIsEscapedOnTheLaunchPage() throws Exception {
        String ref = "\"><svg/onload=alert(1)><script>alert('x')</script>"; // a valid git ref name
        RawHttp.Response r = get("/v2/git/" + encode("https://example.org/r.git") + "/" + pathEncode(ref));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body())
                .doesNotContain("<svg/onload")
                .doesNotContain("<script>alert")
                .contains("&quot;&gt;&lt;svg/onload=alert(1)&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    }

    @Test
    void aRefThatIsNoGitRefIsRefusedAndEscaped() throws Exception {
        RawHttp.Response r = get("/v2/git/" + encode("https://example.org/r.git") + "/" + pathEncode(XSS));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).doesNotContain("<svg onload").doesNotContain("<script>alert");
    }

    @Test
    void aHostileRepositoryIsEscapedOnTheLaunchPageAndItsError() throws Exception {
        RawHttp.Response ok = get("/v2/git/" + encode("https://example.org/" + XSS + ".git") + "/HEAD");
        assertThat(ok.body()).doesNotContain("<svg onload").doesNotContain("<script>alert");
        RawHttp.Response error = get("/v2/gh/" + encode(XSS) + "/x/HEAD");
        assertThat(error.body()).doesNotContain("<svg onload").doesNotContain("<script>alert");
        RawHttp.Response unknown = get("/v2/" + encode(XSS) + "/x/HEAD");
        assertThat(unknown.body()).doesNotContain("<svg onload").doesNotContain("<script>alert");
    }

    @Test
    void aHostileRepositoryIsEscapedOnTheHomeFormsErrorPage() throws Exception {
        RawHttp.Response r = get("/launch?provider=" + encode(XSS) + "&repo=" + encode(XSS) + "&ref=" + encode(XSS));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body())
                .doesNotContain("<svg onload")
                .doesNotContain("<script>alert")
                .contains("&quot;&gt;&lt;svg");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/launch?provider=gh&repo=org/x%0D%0ASet-Cookie:%20evil=1&ref=main",
                "/launch?provider=gh&repo=org/x&ref=main%0D%0ASet-Cookie:%20evil=1",
                "/launch?provider=gh&repo=org/x&ref=main&path=a%0D%0ASet-Cookie:%20evil=1",
                "/repo/org/x%0D%0ASet-Cookie:%20evil=1",
                "/repo/org/x/a%0D%0ASet-Cookie:%20evil=1",
                "/user/nosuchsessionaaaaaaaaaaaaaaaaaaa?x=%0D%0ASet-Cookie:%20evil=1",
            })
    void crlfNeverReachesAResponseHeader(String target) throws Exception {
        RawHttp.Response r = get(target);
        assertThat(r.headers("Set-Cookie")).as(target).noneMatch(c -> c.contains("evil"));
        for (String[] header : r.headers()) {
            assertThat(header[1])
                    .as(target + " " + header[0])
                    .doesNotContain("\r")
                    .doesNotContain("\n");
        }
        String location = r.header("Location");
        if (location != null) {
            assertThat(location).doesNotContain("Set-Cookie: evil");
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https://evil.example/steal",
                "\\\\evil.example\\steal",
                "/\\evil.example",
                "javascript:alert(1)",
                "JaVaScRiPt:alert(1)",
                "java\tscript:alert(1)",
                "../otherid/tree",
                "tree/../../otherid/",
                "%2e%2e/otherid/",
                "data:text/html,<script>alert(1)</script>"
            })
    void aUrlpathThatLeavesTheServerIsDropped(String urlpath) throws Exception {
        RawHttp.Response r = get("/v2/git/" + encode("https://example.org/r.git") + "/HEAD?urlpath=" + encode(urlpath));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).as(urlpath).doesNotContain("data-urlpath="); // empty: the server's default page
    }

    @Test
    void aProtocolRelativeUrlpathBecomesAPathOnTheServer() throws Exception {
        RawHttp.Response r =
                get("/v2/git/" + encode("https://example.org/r.git") + "/HEAD?urlpath=" + encode("//evil.example/x"));
        assertThat(r.body()).contains("data-urlpath=\"evil.example/x\"");
    }

    @Test
    void aUrlpathInsideTheServerIsKept() throws Exception {
        RawHttp.Response r = get("/v2/git/" + encode("https://example.org/r.git") + "/HEAD?urlpath="
                + encode("lab/tree/a b.ipynb?x=1:2"));
        assertThat(r.body()).contains("data-urlpath=\"lab/tree/a b.ipynb?x=1:2\"");
    }
}
