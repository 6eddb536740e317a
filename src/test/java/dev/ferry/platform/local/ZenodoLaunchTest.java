package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.ZenodoStandIn;

/**
 * {@code /v2/zenodo/<DOI>} end to end on the local platform: a stand-in DOI resolver and Zenodo API answer with the
 * real shapes, the record's single zip is fetched, unpacked into the root and detected like a git checkout, and a real
 * Jupyter server shows the archive's files. The same version launches again from the cache; the archive's failures
 * (unknown DOI, deleted, embargoed, restricted, rate-limited, hostile archive) are sentences on the {@code failed} event.
 */
class ZenodoLaunchTest extends LocalPlatformTestSupport {

    static final ZenodoStandIn ZENODO = start();

    static final String NOTEBOOK = "{\"cells\": [{\"cell_type\": \"markdown\", \"metadata\": {}, \"source\": "
            + "[\"# Hello from Zenodo\"]}], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}";

    private static ZenodoStandIn start() {
        try {
            return new ZenodoStandIn();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void zenodo(DynamicPropertyRegistry registry) {
        registry.add("ferry.archives.doi-resolver", ZENODO::resolver);
        registry.add("ferry.archives.zenodo-hosts", ZENODO::base);
    }

    @AfterEach
    void stopSessions() {
        stopAllSessions();
    }

    @AfterAll
    static void stopZenodo() {
        ZENODO.close();
    }

    private static Map<String, byte[]> files(String name, byte[] content) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(name, content);
        return files;
    }

    private EventStream.Result launchZenodo(String doi) throws Exception {
        return EventStream.read(base() + "/build/zenodo/" + doi);
    }

    private static Map<String, Object> failed(EventStream.Result result) {
        assertThat(result.phases()).last().isEqualTo("failed");
        return result.last();
    }

    /** The {@code failed} event of launching the version DOI of record {@code id}. */
    private Map<String, Object> failedLaunch(int id) throws Exception {
        return failed(launchZenodo("10.5281/zenodo." + id));
    }

    /** Adds a record (its own concept) whose single zip holds just a README, with the given access right. */
    private static void addSmallRecord(int id, String title, String access) throws java.io.IOException {
        ZENODO.add(new ZenodoStandIn.Record(
                id,
                id,
                title,
                List.of("Doe, Jane"),
                "software",
                access,
                files("x.zip", ZenodoStandIn.zip("README.md", "x"))));
    }

    @Test
    void aConceptDoiLaunchesItsLatestVersionWithTheArchivesFilesAndTheSameVersionAgainFromTheCache() throws Exception {
        byte[] v1 = ZenodoStandIn.zip("project-1.0/requirements.txt", "ipykernel\n", "project-1.0/old.txt", "old\n");
        byte[] v2 = ZenodoStandIn.zip(
                "project-2.0/requirements.txt",
                "ipykernel\n",
                "project-2.0/notebooks/intro.ipynb",
                NOTEBOOK,
                "project-2.0/data/table.csv",
                "a,b\n1,2\n");
        ZENODO.add(new ZenodoStandIn.Record(
                101, 100, "Ocean model v1", List.of("Doe, Jane"), "software", "open", files("project-1.0.zip", v1)));
        ZENODO.add(new ZenodoStandIn.Record(
                102,
                100,
                "Ocean model",
                List.of("Doe, Jane", "Roe, Richard"),
                "software",
                "open",
                files("project-2.0.zip", v2)));

        EventStream.Result first = launchZenodo("10.5281/zenodo.100");

        assertThat(first.phases())
                .containsSubsequence("waiting", "fetching", "building", "built", "launching", "ready");
        Map<String, Object> ready = first.last();
        assertThat(ready.get("binder_request")).isEqualTo("v2/zenodo/10.5281/zenodo.100");
        assertThat(ready.get("binder_persistent_request")).isEqualTo("v2/zenodo/10.5281/zenodo.102");
        assertThat(ready.get("binder_ref_url")).isEqualTo(ZENODO.resolver() + "/10.5281/zenodo.102");
        assertThat(ready.get("repo_url")).isEqualTo(ZENODO.base() + "/records/102");
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        HttpResponse<String> root = jupyter.get("api/contents");
        assertThat(root.statusCode()).isEqualTo(200);
        assertThat(root.body())
                .contains("\"notebooks\"")
                .contains("\"data\"")
                .contains("requirements.txt")
                .doesNotContain("project-2.0")
                .doesNotContain("old.txt");
        assertThat(jupyter.get("files/notebooks/intro.ipynb").body()).contains("Hello from Zenodo");
        assertThat(jupyter.get("files/data/table.csv").body()).isEqualTo("a,b\n1,2\n");
        assertThat(ZENODO.downloads(102, "project-2.0.zip")).isEqualTo(1);
        long buildsBefore = builds.buildsStarted();

        EventStream.Result again = launchZenodo("10.5281/zenodo.102");

        assertThat(again.phases()).containsExactly("waiting", "built", "launching", "launching", "ready");
        assertThat(again.last().get("binder_persistent_request")).isEqualTo("v2/zenodo/10.5281/zenodo.102");
        assertThat(builds.buildsStarted()).isEqualTo(buildsBefore);
        assertThat(ZENODO.downloads(102, "project-2.0.zip")).isEqualTo(1);
        assertThat(ZENODO.downloads(101, "project-1.0.zip")).isZero();
    }

    @Test
    void aReaderPastesTheDoiSeesTheRecordNamedAndLandsOnItsNotebookInABrowser() throws Exception {
        Path frontend = dev.ferry.testing.Parts.requireBrowser();
        ZENODO.add(new ZenodoStandIn.Record(
                801,
                800,
                "Tides of the North Sea",
                List.of("Doe, Jane", "Roe, Richard"),
                "software",
                "open",
                files(
                        "tides-1.0.zip",
                        ZenodoStandIn.zip(
                                "tides-1.0/requirements.txt",
                                "ipykernel\n",
                                "tides-1.0/notebooks/intro.ipynb",
                                NOTEBOOK))));
        Path config = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempFile("ferry-zenodo-browser", ".json"));
        Files.writeString(
                config,
                tools.jackson.databind.json.JsonMapper.builder()
                        .build()
                        .writeValueAsString(Map.of(
                                "base",
                                base(),
                                "doi",
                                "10.5281/zenodo.800",
                                "versionDoi",
                                "10.5281/zenodo.801",
                                "title",
                                "Tides of the North Sea",
                                "authors",
                                "Doe, Jane; Roe, Richard",
                                "screenshots",
                                Path.of("target", "browser-screenshots")
                                        .toAbsolutePath()
                                        .toString())));

        Process p = new ProcessBuilder("node", "tests/zenodo.mjs", config.toString())
                .directory(frontend.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        System.out.println(out);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("all browser checks passed");
        assertThat(ZENODO.apiCalls(801))
                .as("the page's resolution is reused by the build API")
                .isEqualTo(2);
    }

    @Test
    void aDataRecordKeepsItsFilesAsTheyAre() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("analysis.ipynb", NOTEBOOK.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        files.put("raw.zip", ZenodoStandIn.zip("inside.txt", "x"));
        ZENODO.add(new ZenodoStandIn.Record(200, 200, "Measurements", List.of("Doe, Jane"), "dataset", "open", files));

        Map<String, Object> ready = launchZenodo("10.5281/zenodo.200").last();

        assertThat(ready.get("phase")).isEqualTo("ready");
        String listing = new JupyterClient((String) ready.get("url"), (String) ready.get("token"))
                .get("api/contents")
                .body();
        assertThat(listing).contains("analysis.ipynb").contains("raw.zip").doesNotContain("inside.txt");
    }

    @Test
    void aDoiNobodyRegisteredIsASentence() throws Exception {
        assertThat(failedLaunch(999999))
                .containsEntry("status_code", 404)
                .extractingByKey("message")
                .asString()
                .contains("The DOI 10.5281/zenodo.999999 is not registered");
    }

    @Test
    void aDeletedRecordIsASentence() throws Exception {
        addSmallRecord(300, "Withdrawn", "open");
        ZENODO.delete(300);
        assertThat(failedLaunch(300))
                .containsEntry("status_code", 410)
                .extractingByKey("message")
                .asString()
                .contains("Zenodo record 300 has been deleted (The record has been deleted.)");
    }

    @Test
    void anEmbargoedRecordIsASentence() throws Exception {
        addSmallRecord(400, "Later", "embargoed");
        assertThat(failedLaunch(400))
                .containsEntry("status_code", 403)
                .extractingByKey("message")
                .asString()
                .contains("are under embargo until 2031-01-01");
    }

    @Test
    void aRestrictedRecordIsASentence() throws Exception {
        addSmallRecord(500, "Private", "restricted");
        assertThat(failedLaunch(500))
                .containsEntry("status_code", 403)
                .extractingByKey("message")
                .asString()
                .contains("are not open (restricted)");
    }

    @Test
    void aRateLimitedApiIsASentenceWithTheWait() throws Exception {
        addSmallRecord(600, "Busy", "open");
        ZENODO.rateLimit(true);
        try {
            assertThat(failedLaunch(600))
                    .containsEntry("status_code", 429)
                    .extractingByKey("message")
                    .asString()
                    .contains("rate limit")
                    .contains("launch again in 42 seconds");
        } finally {
            ZENODO.rateLimit(false);
        }
    }

    @Test
    void aHostileArchiveFailsTheLaunchAndWritesNothingOutside() throws Exception {
        ZENODO.add(new ZenodoStandIn.Record(
                700,
                700,
                "Slip",
                List.of("Mallory"),
                "software",
                "open",
                files(
                        "evil.zip",
                        ZenodoStandIn.zip("README.md", "x", "../../../../../../tmp/ferry-zenodo-evil.txt", "x"))));
        assertThat(failedLaunch(700))
                .containsEntry("status_code", 422)
                .extractingByKey("message")
                .asString()
                .contains("which would be written outside the record's folder");
        assertThat(Path.of("/tmp/ferry-zenodo-evil.txt")).doesNotExist();
        try (var all = Files.walk(workDir())) {
            assertThat(all.filter(p -> p.getFileName().toString().contains("evil"))
                            .toList())
                    .isEmpty();
        }
    }

    private java.net.http.HttpResponse<String> get(String path) throws Exception {
        return java.net.http.HttpClient.newBuilder()
                .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
                .build()
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(base() + path))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theFormWithoutJavaScriptLinksARecordWithoutARef() throws Exception {
        assertThat(get("/launch?provider=zenodo&repo=10.5281/zenodo.5&ref=HEAD")
                        .headers()
                        .firstValue("Location"))
                .hasValueSatisfying(l -> assertThat(l).endsWith("/v2/zenodo/10.5281/zenodo.5"));
        assertThat(get("/launch?provider=zenodo&repo=" + encode(ZENODO.base() + "/records/5"))
                        .headers()
                        .firstValue("Location"))
                .hasValueSatisfying(l -> assertThat(l).endsWith("/v2/zenodo/" + encode(ZENODO.base() + "/records/5")));
    }

    @Test
    void theRecordEndpointNamesTheRecordForTheSnippets() throws Exception {
        ZENODO.add(new ZenodoStandIn.Record(
                1001,
                1000,
                "Glacier retreat",
                List.of("Doe, Jane", "Roe, Richard"),
                "software",
                "open",
                files("g.zip", ZenodoStandIn.zip("README.md", "x"))));
        java.net.http.HttpResponse<String> answer = get("/api/record/zenodo/10.5281/zenodo.1000");
        assertThat(answer.statusCode()).isEqualTo(200);
        Map<String, Object> body = tools.jackson.databind.json.JsonMapper.builder()
                .build()
                .readValue(answer.body(), new tools.jackson.core.type.TypeReference<Map<String, Object>>() {});
        assertThat(body)
                .containsEntry("title", "Glacier retreat")
                .containsEntry("version", "1001")
                .containsEntry("resolved_spec", "10.5281/zenodo.1001")
                .containsEntry("citation", "Glacier retreat — Doe, Jane, Roe, Richard")
                .containsEntry("authors", List.of("Doe, Jane", "Roe, Richard"));
        java.net.http.HttpResponse<String> git = get("/api/record/gh/octo/x/HEAD");
        assertThat(git.statusCode()).isEqualTo(404);
        assertThat(git.body()).contains("does not launch records of research archives");
    }

    @Test
    void theLaunchPageOfADeletedRecordSaysSo() throws Exception {
        addSmallRecord(900, "Gone", "open");
        ZENODO.delete(900);
        java.net.http.HttpResponse<String> page = get("/v2/zenodo/10.5281/zenodo.900");
        assertThat(page.statusCode()).isEqualTo(410);
        assertThat(page.body()).contains("This link cannot be launched").contains("Zenodo record 900 has been deleted");
    }

    @Test
    void aSpecThatIsNoDoiIsASentence() throws Exception {
        assertThat(failed(launchZenodo("not-a-doi")))
                .containsEntry("status_code", 400)
                .extractingByKey("message")
                .asString()
                .contains("is not a Zenodo DOI or record URL");
    }
}
