package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.Parts;

/**
 * BinderHub's external contract against real parts: every provider (its host pointed at the test's git server),
 * launch links and their path parameters, the build API's extras, CORS for Thebe-style embedding, and the side
 * endpoints.
 */
class BinderHubCompatTest extends LocalPlatformTestSupport {

    static final Path EVENTS = tempFile();
    static final String PAGE_ORIGIN = "http://docs.example.test";

    @DynamicPropertySource
    static void compat(DynamicPropertyRegistry registry) {
        String host = "http://127.0.0.1:" + GIT.port() + "/git";
        registry.add("ferry.repo.github-host", () -> host);
        registry.add("ferry.repo.gitlab-host", () -> host);
        registry.add("ferry.repo.gist-host", () -> host);
        registry.add("ferry.repo.banned-specs[0]", () -> "^gh/banned-org/.*");
        registry.add("ferry.repo.spec-config[0].pattern", () -> "^gh/workshop/.*");
        registry.add("ferry.repo.spec-config[0].quota", () -> "300");
        registry.add("ferry.build.allow-build-only", () -> "true");
        registry.add("ferry.cors.allowed-origins[0]", () -> PAGE_ORIGIN);
        registry.add("ferry.events.launch-file", EVENTS::toString);
    }

    private static Path tempFile() {
        try {
            Path dir = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempDirectory("ferry-events"));
            return dir.resolve("launches.jsonl");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @AfterEach
    void stopSessions() {
        stopAllSessions();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private EventStream.Result build(String providerAndSpec) throws Exception {
        return EventStream.read(base() + "/build/" + providerAndSpec);
    }

    @Test
    void githubProviderLaunchesWithRefsContainingSlashesAndDropsGitSuffix() throws Exception {
        GIT.createRepo(
                "octo/hello",
                files("hello.ipynb", "{\"cells\":[],\"metadata\":{},\"nbformat\":4,\"nbformat_minor\":5}"));
        String commit = GIT.commit("octo/hello", "feature/plots", files("plot.txt", "p\n"), "plots");
        String host = "http://127.0.0.1:" + GIT.port() + "/git";

        Map<String, Object> ready = build("gh/octo/hello.git/feature/plots").last();

        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        assertThat(ready.get("repo_url")).isEqualTo(host + "/octo/hello");
        assertThat(ready.get("binder_ref_url")).isEqualTo(host + "/octo/hello/tree/" + commit);
        assertThat(ready.get("binder_request")).isEqualTo("v2/gh/octo/hello.git/feature/plots");
        assertThat(ready.get("binder_persistent_request")).isEqualTo("v2/gh/octo/hello/" + commit);

        HttpResponse<String> page = get("/v2/gh/octo/hello/feature/plots");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body())
                .contains("<meta property=\"og:title\" content=\"GitHub Enterprise: octo/hello/feature/plots\">");
    }

    @Test
    void gitlabProviderReadsTheEncodedNamespace() throws Exception {
        GIT.createRepo("group/sub/project", files("README.md", "# gl\n"));
        String host = "http://127.0.0.1:" + GIT.port() + "/git";
        Map<String, Object> ready = build("gl/group%2Fsub%2Fproject/main").last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        assertThat(ready.get("repo_url")).isEqualTo(host + "/group/sub/project.git");
        assertThat((String) ready.get("binder_ref_url")).startsWith(host + "/group/sub/project/tree/");
        assertThat((String) ready.get("binder_persistent_request")).matches("v2/gl/group%2Fsub%2Fproject/[0-9a-f]{40}");
    }

    @Test
    void gistProviderLaunchesWithoutARef() throws Exception {
        GIT.createRepo("someone/0123abcd", files("notes.md", "# gist\n"));
        Map<String, Object> ready = build("gist/someone/0123abcd").last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        assertThat((String) ready.get("binder_persistent_request")).matches("v2/gist/someone/0123abcd/[0-9a-f]{40}");
        assertThat((String) ready.get("binder_ref_url")).matches(".*/git/someone/0123abcd/[0-9a-f]{40}");
    }

    @Test
    void pathParametersMapAsBinderHubDoesAndTheFinalUrlOpensTheFile() throws Exception {
        GIT.createRepo(
                "octo/paths",
                files("notebooks/intro.ipynb", "{\"cells\":[],\"metadata\":{},\"nbformat\":4,\"nbformat_minor\":5}"));
        assertThat(urlpathOf("/v2/gh/octo/paths/HEAD?labpath=notebooks/intro.ipynb/"))
                .isEqualTo("doc/tree/notebooks/intro.ipynb");
        assertThat(urlpathOf("/v2/gh/octo/paths/HEAD?filepath=notebooks/my%20file.ipynb"))
                .isEqualTo("tree/notebooks/my%20file.ipynb");
        assertThat(urlpathOf("/v2/gh/octo/paths/HEAD?urlpath=/lab/tree/x")).isEqualTo("lab/tree/x");
        assertThat(urlpathOf("/v2/gh/octo/paths/HEAD?urlpath=lab&filepath=a.ipynb"))
                .isEqualTo("tree/a.ipynb");
        assertThat(urlpathOf("/v2/gh/octo/paths/HEAD?urlpath=lab&labpath=a.ipynb&filepath=b.ipynb"))
                .isEqualTo("doc/tree/a.ipynb");

        // What the launch page does with ready: new URL(urlpath, url) + ?token=
        Map<String, Object> ready = build("gh/octo/paths/HEAD").last();
        URI target = URI.create((String) ready.get("url"))
                .resolve(urlpathOf("/v2/gh/octo/paths/HEAD?filepath=notebooks/intro.ipynb"));
        HttpResponse<String> opened = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .cookieHandler(new java.net.CookieManager())
                .build()
                .send(
                        HttpRequest.newBuilder(URI.create(target + "?token=" + ready.get("token")))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(opened.statusCode()).isEqualTo(200);
        assertThat(opened.uri().getPath()).endsWith("/notebooks/intro.ipynb");
        assertThat(opened.body()).contains("intro");
    }

    private String urlpathOf(String launchPath) throws Exception {
        HttpResponse<String> page = get(launchPath);
        assertThat(page.statusCode()).isEqualTo(200);
        var m = java.util.regex.Pattern.compile("data-urlpath=\"([^\"]*)\"").matcher(page.body());
        assertThat(m.find()).as(page.body()).isTrue();
        return org.springframework.web.util.HtmlUtils.htmlUnescape(m.group(1));
    }

    @Test
    void legacyRepoLinksRedirectToGitHubLaunchLinks() throws Exception {
        assertThat(get("/repo/u/r").headers().firstValue("Location"))
                .hasValueSatisfying(l -> assertThat(l).endsWith("/v2/gh/u/r/master"));
        assertThat(get("/repo/u/r/").headers().firstValue("Location"))
                .hasValueSatisfying(l -> assertThat(l).endsWith("/v2/gh/u/r/master"));
        assertThat(get("/repo/u/r/notebooks/index.ipynb").headers().firstValue("Location"))
                .hasValueSatisfying(
                        l -> assertThat(l).endsWith("/v2/gh/u/r/master?urlpath=%2Fnotebooks%2Findex.ipynb"));
    }

    @Test
    void reconnectingWithLastEventIdReattachesToTheSameLaunch() throws Exception {
        GIT.createRepo("octo/reconnect", files("README.md", "# r\n"));
        long buildsBefore = builds.buildsStarted();
        int sessionsBefore = sessions.sessions().size();
        String url = base() + "/build/gh/octo/reconnect/HEAD";

        EventStream.Result first =
                EventStream.read(url, Map.of("Accept", "text/event-stream"), Duration.ofMinutes(2), 2);
        assertThat(first.events()).hasSize(2);
        EventStream.Result rest = EventStream.read(
                url,
                Map.of("Accept", "text/event-stream", "Last-Event-ID", first.lastId()),
                Duration.ofMinutes(2),
                Integer.MAX_VALUE);

        assertThat(rest.last().get("phase")).isEqualTo("ready");
        String launchId = first.lastId().substring(0, first.lastId().lastIndexOf('.'));
        assertThat(rest.ids()).allSatisfy(id -> assertThat(id).startsWith(launchId + "."));
        assertThat(rest.ids().get(0)).isEqualTo(launchId + ".3");
        assertThat(builds.buildsStarted() - buildsBefore).isEqualTo(1);
        assertThat(sessions.sessions()).hasSize(sessionsBefore + 1);

        EventStream.Result after = EventStream.read(
                url,
                Map.of("Accept", "text/event-stream", "Last-Event-ID", rest.lastId()),
                Duration.ofSeconds(30),
                Integer.MAX_VALUE);
        assertThat(after.status())
                .as("a finished launch tells EventSource to stop reconnecting")
                .isEqualTo(204);
        assertThat(sessions.sessions()).hasSize(sessionsBefore + 1);
    }

    @Test
    void buildOnlyBuildsWithoutStartingASession() throws Exception {
        GIT.createRepo("octo/build-only", files("README.md", "# b\n"));
        int before = sessions.sessions().size();
        EventStream.Result built = build("gh/octo/build-only/HEAD?build_only=true");
        assertThat(built.last())
                .containsEntry("phase", "ready")
                .containsEntry("message", "Done! Image built\n")
                .containsKey("imageName");
        EventStream.Result again = build("gh/octo/build-only/HEAD?build_only=true");
        assertThat(again.last()).containsEntry("phase", "ready").containsEntry("message", "Done! Found built image\n");
        assertThat(sessions.sessions()).hasSize(before);
    }

    @Test
    void bannedSpecsAreRefusedWithBinderHubsSentence() throws Exception {
        Map<String, Object> failed = build("gh/Banned-Org/repo/HEAD").last();
        assertThat(failed.get("phase")).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(403);
        assertThat(failed.get("message"))
                .isEqualTo(
                        "Sorry, gh/Banned-Org/repo/HEAD has been temporarily disabled from launching. Please contact admins for more info!\n");
    }

    @Test
    void thebeOnAnotherOriginRunsCodeWhenCorsAllowsIt() throws Exception {
        Path node = Parts.requireNodeModules();
        GIT.createRepo("octo/thebe", files("README.md", "# thebe\n"));
        Process p = new ProcessBuilder("node", "thebe.mjs", base(), "gh", "octo/thebe/HEAD", PAGE_ORIGIN)
                .directory(node.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("OUTPUT \"42\\n\"");

        Process other = new ProcessBuilder(
                        "node", "thebe.mjs", base(), "gh", "octo/thebe/HEAD", "http://elsewhere.example.test")
                .directory(node.toFile())
                .redirectErrorStream(true)
                .start();
        String refused = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(other.waitFor()).as(refused).isEqualTo(4);
        assertThat(refused)
                .as("a browser would not let the page read the event stream")
                .contains("REFUSED response of GET " + base() + "/build/");
    }

    @Test
    void corsHeadersFollowTheAllowedOrigins() throws Exception {
        GIT.createRepo("octo/cors", files("README.md", "# c\n"));
        HttpResponse<String> allowed =
                get("/build/gh/octo/nope/HEAD", "Accept", "text/event-stream", "Origin", PAGE_ORIGIN);
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).hasValue(PAGE_ORIGIN);
        HttpResponse<String> other =
                get("/build/gh/octo/nope/HEAD", "Accept", "text/event-stream", "Origin", "http://evil.test");
        assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();

        Map<String, Object> ready = build("gh/octo/cors/HEAD").last();
        HttpResponse<String> preflight = http.send(
                HttpRequest.newBuilder(URI.create(ready.get("url") + "api/sessions"))
                        .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                        .header("Origin", PAGE_ORIGIN)
                        .header("Access-Control-Request-Method", "POST")
                        .header("Access-Control-Request-Headers", "authorization,content-type")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin"))
                .hasValue(PAGE_ORIGIN);
    }

    @Test
    void sideEndpointsSpeakBinderHubsShapes() throws Exception {
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        Map<String, Object> h = json.readValue(health.body(), new TypeReference<Map<String, Object>>() {});
        assertThat(h.get("ok")).isEqualTo(true);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> checks = (List<Map<String, Object>>) h.get("checks");
        assertThat(checks.stream().map(c -> c.get("service")).toList())
                .contains("Jupyter", "Disk space", "Session quota");

        HttpResponse<String> versions = get("/versions");
        assertThat(versions.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(json.readValue(versions.body(), new TypeReference<Map<String, Object>>() {}))
                .containsKeys("builder_info", "binderhub");

        List<Map<String, Object>> providers =
                json.readValue(get("/api/repoproviders").body(), new TypeReference<List<Map<String, Object>>>() {});
        assertThat(providers)
                .extracting(p -> p.get("id"))
                .containsExactly("gh", "gl", "git", "gist", "zenodo", "figshare", "dataverse", "hydroshare", "ckan");
        assertThat(providers.get(4))
                .containsEntry("displayName", "Zenodo DOI")
                .containsEntry("ref", Map.of("enabled", false, "default", ""));
        assertThat(providers.get(1)).containsKeys("displayName", "repo", "ref", "spec");
        @SuppressWarnings("unchecked")
        Map<String, Object> glRepo = (Map<String, Object>) providers.get(1).get("repo");
        assertThat(glRepo).containsEntry("urlEncode", true);

        for (String badge : List.of("/badge_logo.svg", "/badge.svg")) {
            HttpResponse<String> svg = get(badge);
            assertThat(svg.statusCode()).isEqualTo(200);
            assertThat(svg.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(t -> assertThat(t).startsWith("image/svg+xml"));
            assertThat(svg.body()).contains("<svg").contains(">launch<");
        }
    }

    @Test
    void metricsCarryBinderHubsNamesAndLaunchEventsAreWritten() throws Exception {
        GIT.createRepo("octo/metrics", files("README.md", "# m\n"));
        assertThat(build("gh/octo/metrics/HEAD").last().get("phase")).isEqualTo("ready");

        String metrics = get("/metrics").body();
        assertThat(metrics)
                .contains("binderhub_build_time_seconds_bucket{status=\"success\",le=\"60.0\"}")
                .contains("binderhub_launch_time_seconds_bucket{retries=\"0\",status=\"success\",le=\"2.0\"}")
                .containsPattern(
                        "binderhub_build_count_total\\{provider=\"GitHub\",repo=\"[^\"]+/octo/metrics\",status=\"success\"}")
                .containsPattern(
                        "binderhub_launch_count_total\\{provider=\"GitHub\",repo=\"[^\"]+/octo/metrics\",status=\"success\"}")
                .contains("binderhub_inprogress_builds")
                .contains("binderhub_inprogress_launches");

        List<String> lines = Files.readAllLines(EVENTS);
        Map<String, Object> event = json.readValue(
                lines.stream()
                        .filter(l -> l.contains("octo/metrics"))
                        .findFirst()
                        .orElseThrow(),
                new TypeReference<Map<String, Object>>() {});
        assertThat(event)
                .containsEntry("schema", "binderhub.jupyter.org/launch")
                .containsEntry("provider", "GitHub")
                .containsEntry("spec", "octo/metrics/HEAD")
                .containsEntry("status", "success")
                .containsKeys("timestamp", "ref", "origin");
    }

    @org.springframework.beans.factory.annotation.Autowired
    dev.ferry.repo.RepoProviders repoProviders;

    @Test
    void specConfigIsExposedForTheCapacityWork() {
        assertThat(repoProviders
                        .settingsFor(repoProviders.parse("gh", "workshop/intro/HEAD"))
                        .quota())
                .hasValue(300);
        assertThat(repoProviders
                        .settingsFor(repoProviders.parse("gh", "other/intro/HEAD"))
                        .quota())
                .isEmpty();
    }

    @Test
    void hostileSpecsAreNeverEchoedRaw() throws Exception {
        for (String path : List.of(
                "/v2/gh/o/r%0D%0ASet-Cookie:%20x=1/HEAD",
                "/v2/gh/%3Cscript%3Ealert(1)%3C%2Fscript%3E/r/HEAD",
                "/v2/git/https%3A%2F%2Fexample.org%2F%3Cscript%3E.git/%3Cscript%3E")) {
            HttpResponse<String> page = get(path);
            assertThat(page.body()).as(path).doesNotContain("<script>alert").doesNotContain("<script>.git");
            assertThat(page.headers().map().keySet()).as(path).noneMatch(k -> k.equalsIgnoreCase("Set-Cookie"));
        }
        EventStream.Result failed = build("gh/o/r%0D%0Ax/HEAD");
        assertThat(failed.last().get("phase")).isEqualTo("failed");
        assertThat((String) failed.last().get("message")).doesNotContain("\r").doesNotContain("\n\n");
    }

    @Test
    void malformedSpecsAreExplained() throws Exception {
        assertThat(build("svn/x/y").last()).containsEntry("status_code", 404);
        Map<String, Object> noRef = build("gh/octo/hello").last();
        assertThat(noRef.get("status_code")).isEqualTo(400);
        assertThat((String) noRef.get("message")).contains("Did you mean \"octo/hello/HEAD\"?");
        Map<String, Object> tooLong =
                build("gh/octo/" + "a".repeat(2100) + "/HEAD").last();
        assertThat((String) tooLong.get("message")).contains("longer than 2048");
        Map<String, Object> doubleEncoded =
                build("git/https%253A%252F%252Fexample.org%252Fr.git/HEAD").last();
        assertThat((String) doubleEncoded.get("message")).contains("not URL-encoded");
    }
}
