package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;
import org.springframework.web.util.HtmlUtils;

import dev.ferry.platform.local.LocalPlatformTestSupport;
import dev.ferry.testing.EventStream;

/** The build API's limits as a client sees them: BinderHub's 429 with x-ratelimit headers, and the exemptions. */
@TestPropertySource(properties = {"ferry.rate-limit.requests-per-minute=3", "ferry.rate-limit.burst=3",
        "ferry.trusted-proxies=127.0.0.1", "ferry.ban-networks=203.0.113.0/24"})
class RateLimitLaunchTest extends LocalPlatformTestSupport {

    private static final String SPEC = "git/https%3A%2F%2Fno-such-host.invalid%2Frepo.git/main";
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> build(String path, String forwardedFor) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).header("Accept", "text/event-stream");
        if (forwardedFor != null) {
            b.header("X-Forwarded-For", forwardedFor);
        }
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aScriptBeyondTheLimitGets429WithRateLimitHeaders() throws Exception {
        String client = "198.51.100.10";
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> allowed = build("/build/" + SPEC, client);
            assertThat(allowed.body()).doesNotContain("\"status_code\":429");
            assertThat(allowed.headers().firstValue("x-ratelimit-remaining")).hasValue(Integer.toString(2 - i));
        }
        HttpResponse<String> refused = build("/build/" + SPEC, client);
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("\"phase\":\"failed\"").contains("\"status_code\":429")
                .contains("Too many launches from your address: the limit is 3 a minute");
        assertThat(refused.headers().firstValue("x-ratelimit-limit")).hasValue("3");
        assertThat(refused.headers().firstValue("x-ratelimit-remaining")).hasValue("0");
        assertThat(refused.headers().firstValue("x-ratelimit-reset")).isPresent();

        assertThat(build("/build/" + SPEC, "198.51.100.11").body()).as("another address has its own limit")
                .doesNotContain("\"status_code\":429");
    }

    @Test
    void theLaunchPagesTokenIsNeverRateLimited() throws Exception {
        String page = http.send(HttpRequest.newBuilder(URI.create(base() + "/v2/" + SPEC)).header("X-Forwarded-For", "198.51.100.20")
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("data-build-url=\"([^\"]+)\"").matcher(page);
        assertThat(m.find()).isTrue();
        String buildUrl = HtmlUtils.htmlUnescape(m.group(1));
        assertThat(buildUrl).contains("?build_token=");
        for (int i = 0; i < 6; i++) {
            assertThat(build(buildUrl, "198.51.100.20").body()).doesNotContain("\"status_code\":429");
        }
        String otherSpec = buildUrl.replace("repo.git", "other.git");
        build(otherSpec, "198.51.100.20");
        build(otherSpec, "198.51.100.20");
        build(otherSpec, "198.51.100.20");
        assertThat(build(otherSpec, "198.51.100.20").body()).as("a token is for its own launch only").contains("\"status_code\":429");
    }

    @Test
    void bannedNetworksAreRefusedOnPagesAndTheApi() throws Exception {
        Map<String, Object> failed = EventStream.read(base() + "/build/" + SPEC,
                Map.of("Accept", "text/event-stream", "X-Forwarded-For", "203.0.113.50"), java.time.Duration.ofSeconds(30), 10).last();
        assertThat(failed).containsEntry("phase", "failed").containsEntry("status_code", 403);
        assertThat((String) failed.get("message")).startsWith("Requests from your network are not accepted");
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base() + "/v2/" + SPEC))
                .header("X-Forwarded-For", "203.0.113.50").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(403);
        assertThat(page.body()).contains("Requests from your network are not accepted");
    }
}
