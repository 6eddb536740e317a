package dev.ferry.repo;

import static dev.ferry.repo.ArchiveApiStandIn.md5;
import static dev.ferry.repo.ArchiveApiStandIn.redirect;
import static dev.ferry.repo.ArchiveApiStandIn.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;

/**
 * The Figshare provider against a stand-in that answers with Figshare's shapes (a DOI resolver redirecting to
 * {@code /articles/<type>/<title>/<id>[/<version>]}, {@code /v2/articles/<id>/versions} as a list of
 * {@code {version, url}}, {@code /v2/articles/<id>/versions/<v>} with title, authors' {@code full_name}, {@code doi} and
 * {@code files} with {@code name}, {@code download_url}, {@code computed_md5}, {@code is_link_only}), reached only
 * through a public address routed to loopback: private addresses stay refused, as in production.
 */
class FigshareRepoProviderTest {

    private ArchiveApiStandIn api;
    private final Map<String, String> answers = new ConcurrentHashMap<>();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws IOException {
        api = new ArchiveApiStandIn("ferry-figshare", this::handle);
        byte[] zip = zip();
        files.put("/ndownloader/files/111", zip);
        answers.put(
                "/v2/articles/9782777/versions",
                "[{\"version\": 1, \"url\": \"" + api.base() + "/v2/articles/9782777/versions/1\"}, "
                        + "{\"version\": 3, \"url\": \"" + api.base()
                        + "/v2/articles/9782777/versions/3\"}, {\"version\": 2, \"url\": \""
                        + api.base() + "/v2/articles/9782777/versions/2\"}]");
        for (int v = 1; v <= 3; v++) {
            answers.put(
                    "/v2/articles/9782777/versions/" + v,
                    "{\"id\": 9782777, \"title\": \"binder-examples requirements\", "
                            + "\"doi\": \"10.6084/m9.figshare.9782777.v" + v + "\", \"version\": " + v
                            + ", \"is_embargoed\": false, "
                            + "\"authors\": [{\"id\": 1, \"full_name\": \"Tim Head\"}, {\"id\": 2, \"full_name\": \"Min RK\"}], "
                            + "\"files\": [{\"id\": 111, \"name\": \"requirements-v" + v + ".zip\", \"size\": "
                            + zip.length + ", "
                            + "\"is_link_only\": false, \"download_url\": \"" + api.base()
                            + "/ndownloader/files/111\", "
                            + "\"supplied_md5\": \"\", \"computed_md5\": \"" + md5(zip)
                            + "\"}, {\"id\": 112, \"name\": \"elsewhere\", "
                            + "\"is_link_only\": true, \"download_url\": \"https://example.org/x\"}]}");
        }
        answers.put(
                "/v2/articles/555/versions/1",
                "{\"id\": 555, \"title\": \"Later\", \"is_embargoed\": true, "
                        + "\"embargo_date\": \"2031-01-01\", \"files\": []}");
    }

    @AfterEach
    void stop() throws IOException {
        api.close();
        assertThat(api.stray()).as("connections to anything but the stand-in").isEmpty();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/10.6084/m9.figshare.9782777")) {
                redirect(exchange, api.base() + "/articles/software/binder-examples_requirements/9782777");
            } else if (path.equals("/10.6084/m9.figshare.9782777.v2")) {
                redirect(exchange, api.base() + "/articles/software/binder-examples_requirements/9782777/2");
            } else if (path.equals("/10.6084/m9.figshare.555.v1")) {
                redirect(exchange, api.base() + "/articles/dataset/later/555/1");
            } else if (path.startsWith("/articles/")) {
                send(exchange, 200, "<html>article</html>".getBytes(StandardCharsets.UTF_8));
            } else if (answers.containsKey(path)) {
                send(exchange, 200, answers.get(path).getBytes(StandardCharsets.UTF_8));
            } else if (files.containsKey(path)) {
                send(exchange, 200, files.get(path));
            } else {
                send(
                        exchange,
                        404,
                        "{\"message\": \"Entity not found: article\", \"code\": \"EntityNotFound\"}"
                                .getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static byte[] zip() throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(bytes)) {
            zip.putNextEntry(new java.util.zip.ZipEntry("requirements-master/requirements.txt"));
            zip.write("numpy\n".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.putNextEntry(new java.util.zip.ZipEntry("requirements-master/index.ipynb"));
            zip.write("{}".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return bytes.toByteArray();
    }

    private FigshareRepoProvider provider() {
        return new FigshareRepoProvider(api.base(), List.of(api.base()), api.base() + "/v2");
    }

    @Test
    void anUnversionedDoiLaunchesTheLatestVersion() {
        ArchiveRecord record = provider()
                .resolve(
                        provider().parse("10.6084/m9.figshare.9782777"),
                        api.fetcher().begin());

        assertThat(record.version()).isEqualTo("9782777.v3");
        assertThat(record.resolvedSpec()).isEqualTo("10.6084/m9.figshare.9782777.v3");
        assertThat(record.refUrl()).isEqualTo(api.base() + "/10.6084/m9.figshare.9782777.v3");
        assertThat(record.title()).isEqualTo("binder-examples requirements");
        assertThat(record.authors()).containsExactly("Tim Head", "Min RK");
        assertThat(record.files()).extracting(ArchiveRecord.ArchiveFile::name).containsExactly("requirements-v3.zip");
        assertThat(record.unpackSingle()).isTrue();
    }

    @Test
    void aVersionedDoiLaunchesThatVersion() {
        ArchiveRecord record = provider()
                .resolve(
                        provider().parse("10.6084/m9.figshare.9782777.v2"),
                        api.fetcher().begin());
        assertThat(record.version()).isEqualTo("9782777.v2");
        assertThat(record.resolvedSpec()).isEqualTo("10.6084/m9.figshare.9782777.v2");
    }

    @Test
    void anArticleUrlOfTheKnownHostLaunchesWithoutTheResolver() {
        ArchiveRecord record = provider()
                .resolve(
                        provider()
                                .parse(java.net.URLEncoder.encode(
                                        api.base() + "/articles/software/x/9782777/1", StandardCharsets.UTF_8)),
                        api.fetcher().begin());
        assertThat(record.version()).isEqualTo("9782777.v1");
    }

    @Test
    void theSingleZipIsFetchedVerifiedAndUnpackedIntoTheRoot() throws IOException {
        ArchiveFetcher fetcher = api.fetcher();
        ArchiveRecord record = provider().resolve(provider().parse("10.6084/m9.figshare.9782777"), fetcher.begin());
        Path repo = api.fetchInto(fetcher, record);
        assertThat(Files.readString(repo.resolve("requirements.txt"))).isEqualTo("numpy\n");
        assertThat(repo.resolve("index.ipynb")).exists();
        try (var siblings = Files.list(api.dir())) {
            assertThat(siblings.toList()).containsExactly(repo);
        }
    }

    @Test
    void aFileThatDoesNotMatchItsChecksumIsRefusedAndLeavesNothing() throws IOException {
        ArchiveFetcher fetcher = api.fetcher();
        ArchiveRecord record = provider().resolve(provider().parse("10.6084/m9.figshare.9782777"), fetcher.begin());
        files.put("/ndownloader/files/111", "tampered".getBytes(StandardCharsets.UTF_8));
        Path repo = api.repo();
        assertThatThrownBy(() -> api.fetchInto(fetcher, record))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("did not arrive as the archive describes it");
        try (var left = Files.list(repo)) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void anEmbargoedArticleIsASentence() {
        assertThatThrownBy(() -> provider()
                        .resolve(
                                provider().parse("10.6084/m9.figshare.555.v1"),
                                api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("The files of Figshare article 555 are under embargo until 2031-01-01")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(403));
    }

    @Test
    void anUnknownArticleIsASentence() {
        assertThatThrownBy(() -> provider()
                        .resolve(
                                provider()
                                        .parse(java.net.URLEncoder.encode(
                                                api.base() + "/articles/x/42/1", StandardCharsets.UTF_8)),
                                api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("Figshare has no article 42 (version 1)")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(404));
    }
}
