package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import org.springframework.web.util.HtmlUtils;

import dev.ferry.access.StreamLimits;
import dev.ferry.platform.local.LocalPlatformTestSupport;
import dev.ferry.testing.EventStream;
import dev.ferry.testing.RawHttp;
import dev.ferry.testing.TempDirs;

/**
 * The build API's limits as a client sees them: BinderHub's 429 with x-ratelimit headers, the launch page's token
 * (one launch, from the address that loaded the page), how many tokens an address is given, and how many event
 * streams may be open. Visitors come from their own loopback addresses (all of 127.0.0.0/8 is on {@code lo}), or through
 * the trusted proxy 127.0.0.1 with {@code X-Forwarded-For}.
 */
@TestPropertySource(
        properties = {
            "ferry.rate-limit.requests-per-minute=3",
            "ferry.rate-limit.burst=3",
            "ferry.trusted-proxies=127.0.0.1",
            "ferry.ban-networks=203.0.113.0/24",
            "ferry.rate-limit.tokens-per-minute=5",
            "ferry.rate-limit.streams-per-address=3",
            "ferry.rate-limit.max-streams=5"
        })
class RateLimitLaunchTest extends LocalPlatformTestSupport {

    private static final String SPEC = "git/https%3A%2F%2Fno-such-host.invalid%2Frepo.git/main";
    private final HttpClient http = HttpClient.newHttpClient();
    private static final Path EVENTS = eventsFile();

    private static Path eventsFile() {
        try {
            return TempDirs.deleteOnExit(Files.createTempDirectory("ferry-events"))
                    .resolve("launches.jsonl");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void launchEvents(DynamicPropertyRegistry registry) {
        registry.add("ferry.events.launch-file", EVENTS::toString);
    }

    private HttpResponse<String> build(String path, String forwardedFor) throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(base() + path)).header("Accept", "text/event-stream");
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
        assertThat(refused.body())
                .contains("\"phase\":\"failed\"")
                .contains("\"status_code\":429")
                .contains("Too many launches from your address: the limit is 3 a minute");
        assertThat(refused.headers().firstValue("x-ratelimit-limit")).hasValue("3");
        assertThat(refused.headers().firstValue("x-ratelimit-remaining")).hasValue("0");
        assertThat(refused.headers().firstValue("x-ratelimit-reset")).isPresent();

        assertThat(build("/build/" + SPEC, "198.51.100.11").body())
                .as("another address has its own limit")
                .doesNotContain("\"status_code\":429");
    }

    @Test
    void aScriptRotatingThroughTheAddressesOfItsIpv6BlockSharesOneLimit() throws Exception {
        for (int i = 1; i <= 3; i++) {
            assertThat(build("/build/" + SPEC, "2001:db8:77:1::" + i).body()).doesNotContain("\"status_code\":429");
        }
        HttpResponse<String> refused = build("/build/" + SPEC, "2001:db8:77:1:ffff::" + 4);
        assertThat(refused.body())
                .as("a fourth address of the same /64")
                .contains("\"status_code\":429")
                .contains("Too many launches from your address");
        assertThat(build("/build/" + SPEC, "2001:db8:77:2::1").body())
                .as("the next /64 has its own limit")
                .doesNotContain("\"status_code\":429");
    }

    @Test
    void launchEventsSayWhetherABuildTokenLetTheLaunchThrough() throws Exception {
        String spec = "git/" + encode(GIT.createRepo("token-events", files("README.md", "# t\n"))) + "/main";
        String client = "198.51.100.60"; // through the trusted proxy 127.0.0.1
        String buildUrl = forwardedPageBuildUrl(spec, client);
        try {
            EventStream.Result withToken = EventStream.read(
                    buildUrl,
                    Map.of("Accept", "text/event-stream", "X-Forwarded-For", client),
                    Duration.ofSeconds(120),
                    Integer.MAX_VALUE);
            assertThat(withToken.last()).containsEntry("phase", "ready");
            assertThat(build("/build/" + spec, "198.51.100.61").body())
                    .as("a script's launch, without a token")
                    .contains("\"phase\":\"ready\"");

            // a launch's event is written as it ends, just after its ready event went out: wait for the second
            List<String> lines = Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(
                            () -> Files.readAllLines(EVENTS).stream()
                                    .filter(l -> l.contains("token-events"))
                                    .toList(),
                            l -> l.size() >= 2);
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).contains("\"build_token\":true");
            assertThat(lines.get(1)).contains("\"build_token\":false");
        } finally {
            stopAllSessions();
        }
    }

    /** The full build URL the launch page of {@code spec} gives {@code client}, seen through the trusted proxy. */
    private String forwardedPageBuildUrl(String spec, String client) throws Exception {
        String page = http.send(
                        HttpRequest.newBuilder(URI.create(base() + "/v2/" + spec))
                                .header("X-Forwarded-For", client)
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("data-build-url=\"([^\"]+)\"").matcher(page);
        assertThat(m.find()).isTrue();
        return base() + HtmlUtils.htmlUnescape(m.group(1));
    }

    /** The build URL of the launch page of {@code SPEC}, as the page gives it to the visitor at {@code from}. */
    private String pageBuildUrl(String from) throws Exception {
        RawHttp.Response page = RawHttp.getFrom(from, port, "/v2/" + SPEC, Map.of());
        assertThat(page.status()).isEqualTo(200);
        Matcher m = Pattern.compile("data-build-url=\"([^\"]+)\"").matcher(page.body());
        assertThat(m.find()).as(page.body()).isTrue();
        return HtmlUtils.htmlUnescape(m.group(1));
    }

    private RawHttp.Response buildFrom(String from, String path) throws Exception {
        return RawHttp.getFrom(from, port, path, Map.of("Accept", "text/event-stream"));
    }

    /** Spends the rate limit of {@code from} with launches that carry no token, until one is refused. */
    private void exhaustLimit(String from) throws Exception {
        for (int i = 0; i < 3; i++) {
            buildFrom(from, "/build/" + SPEC);
        }
        assertThat(buildFrom(from, "/build/" + SPEC).body()).contains("\"status_code\":429");
    }

    @Test
    void theLaunchPagesTokenExemptsOneLaunchOfItsOwnRepository() throws Exception {
        String buildUrl = pageBuildUrl("127.0.0.20");
        assertThat(buildUrl).contains("?build_token=");
        exhaustLimit("127.0.0.20");
        String otherSpec = buildUrl.replace("repo.git", "other.git");
        assertThat(buildFrom("127.0.0.20", otherSpec).body())
                .as("a token is for its own launch only")
                .contains("\"status_code\":429");
        assertThat(buildFrom("127.0.0.20", buildUrl).body())
                .as("the page's own launch is not limited")
                .doesNotContain("\"status_code\":429");
    }

    @Test
    void aTokenIsRefusedFromAnAddressOtherThanTheOneThatLoadedThePage() throws Exception {
        String buildUrl = pageBuildUrl("127.0.0.2");
        exhaustLimit("127.0.0.3");
        RawHttp.Response stolen = buildFrom("127.0.0.3", buildUrl);
        assertThat(stolen.body())
                .as("a token copied to another address")
                .contains("\"status_code\":429")
                .contains("Too many launches from your address");
        exhaustLimit("127.0.0.2");
        assertThat(buildFrom("127.0.0.2", buildUrl).body())
                .as("its own address may still use it")
                .doesNotContain("\"status_code\":429");
    }

    @Test
    void aTokenStartsOneLaunchAndFollowingThatLaunchAgainNeedsNoNewOne() throws Exception {
        String client = "198.51.100.40"; // through the trusted proxy 127.0.0.1
        String buildUrl = forwardedPageBuildUrl(SPEC, client);
        for (int i = 0; i < 3; i++) {
            build("/build/" + SPEC, client);
        }
        assertThat(build("/build/" + SPEC, client).body()).contains("\"status_code\":429");

        EventStream.Result first = EventStream.read(
                buildUrl,
                Map.of("Accept", "text/event-stream", "X-Forwarded-For", client),
                Duration.ofSeconds(60),
                1); // the page's stream, dropped after its first event
        assertThat(first.last()).doesNotContainEntry("status_code", 429);
        assertThat(first.lastId()).isNotNull();

        EventStream.Result resumed = EventStream.read(
                buildUrl,
                Map.of("Accept", "text/event-stream", "X-Forwarded-For", client, "Last-Event-ID", first.lastId()),
                Duration.ofSeconds(60),
                Integer.MAX_VALUE);
        assertThat(resumed.status()).isEqualTo(200);
        assertThat(resumed.events())
                .as("EventSource reconnecting follows the same launch")
                .isNotEmpty();
        assertThat(resumed.ids())
                .allSatisfy(id -> assertThat(id).startsWith(first.lastId().replaceAll("\\.\\d+$", ".")));
        assertThat(resumed.last()).containsEntry("phase", "failed").doesNotContainEntry("status_code", 429);

        EventStream.Result second = EventStream.read(
                buildUrl,
                Map.of("Accept", "text/event-stream", "X-Forwarded-For", client),
                Duration.ofSeconds(60),
                Integer.MAX_VALUE);
        assertThat(second.last()).as("a second launch with the same token").containsEntry("status_code", 429);
    }

    @Test
    void anAddressIsGivenTokensAtTheIssuanceRateAndAnotherAddressIsUnaffected() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(pageBuildUrl("127.0.0.30")).contains("?build_token=");
        }
        String sixth = pageBuildUrl("127.0.0.30");
        assertThat(sixth)
                .as("the page still works, its launch falls under the rate limit")
                .startsWith("/build/")
                .doesNotContain("build_token");
        assertThat(pageBuildUrl("127.0.0.31")).contains("?build_token=");
    }

    @Autowired
    ObjectProvider<StreamLimits> streamLimits;

    /** Opens a build event stream from {@code from} and keeps it open; returns once the response head came. */
    private Socket openStream(String from, String target) throws Exception {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port));
        s.setSoTimeout(20_000);
        s.getOutputStream()
                .write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                                + "\r\nAccept: text/event-stream\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
        java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
        while (!received.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = s.getInputStream().read();
            assertThat(b).as("the response head ends").isNotEqualTo(-1);
            received.write(b);
        }
        String head = received.toString(StandardCharsets.ISO_8859_1);
        assertThat(head)
                .startsWith("HTTP/1.1 200")
                .contains("text/event-stream")
                .doesNotContain("Content-Length");
        return s;
    }

    @Test
    void concurrentEventStreamsAreBoundedPerAddressAndInTotalAndFreedWhenTheyEnd() throws Exception {
        List<Socket> open = new ArrayList<>();
        try (ServerSocket silentGitHost = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silentGitHost.accept()); // never answers: the launch waits on it
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            String hanging =
                    "/build/git/" + encode("http://127.0.0.1:" + silentGitHost.getLocalPort() + "/slow.git") + "/main";

            for (int i = 0; i < 3; i++) {
                open.add(openStream("127.0.0.40", hanging));
            }
            RawHttp.Response fourth = buildFrom("127.0.0.40", hanging);
            assertThat(fourth.body())
                    .contains("\"phase\":\"failed\"")
                    .contains("\"status_code\":429")
                    .contains("Your address already follows 3 launches at once");
            assertThat(fourth.header("Retry-After")).isNotNull();

            open.add(openStream("127.0.0.41", hanging));
            open.add(openStream("127.0.0.41", hanging));
            RawHttp.Response beyondTotal = buildFrom("127.0.0.42", hanging);
            assertThat(beyondTotal.body())
                    .contains("\"status_code\":503")
                    .contains("This Ferry is following as many launches as it can (5 at once)");
            assertThat(beyondTotal.header("Retry-After")).isNotNull();

            for (Socket s : open) {
                s.close(); // the clients leave
            }
            for (Socket s : accepted) {
                s.close(); // and the launches fail: every stream ends
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> streamLimits.getObject().open() == 0);
            String token = pageBuildUrl("127.0.0.40");
            RawHttp.Response again = buildFrom("127.0.0.40", token);
            assertThat(again.body())
                    .as("after the streams ended")
                    .doesNotContain("\"status_code\":429")
                    .doesNotContain("\"status_code\":503");
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
    }

    @Test
    void bannedNetworksAreRefusedOnPagesAndTheApi() throws Exception {
        Map<String, Object> failed = EventStream.read(
                        base() + "/build/" + SPEC,
                        Map.of("Accept", "text/event-stream", "X-Forwarded-For", "203.0.113.50"),
                        java.time.Duration.ofSeconds(30),
                        10)
                .last();
        assertThat(failed).containsEntry("phase", "failed").containsEntry("status_code", 403);
        assertThat((String) failed.get("message")).startsWith("Requests from your network are not accepted");
        HttpResponse<String> page = http.send(
                HttpRequest.newBuilder(URI.create(base() + "/v2/" + SPEC))
                        .header("X-Forwarded-For", "203.0.113.50")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(403);
        assertThat(page.body()).contains("Requests from your network are not accepted");
    }
}
