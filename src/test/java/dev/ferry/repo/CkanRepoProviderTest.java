package dev.ferry.repo;

import static dev.ferry.repo.ArchiveApiStandIn.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;

/**
 * The CKAN provider against a stand-in answering with CKAN's action API shapes ({@code package_show} with
 * {@code success}, {@code result.metadata_modified}, {@code resources[].url}; {@code activity_show} with
 * {@code result.timestamp} and {@code result.data.package}; errors as {@code {"success": false, "error": {"__type":
 * "Not Found Error"}}}), reached only through a public address routed to loopback.
 */
class CkanRepoProviderTest {

    private ArchiveApiStandIn api;

    @BeforeEach
    void start() throws IOException {
        api = new ArchiveApiStandIn("ferry-ckan", this::handle);
    }

    @AfterEach
    void stop() throws IOException {
        api.close();
        assertThat(api.stray()).as("connections to anything but the stand-in").isEmpty();
    }

    private String resources(String second) {
        return "[{\"id\": \"r1\", \"url\": \"" + api.base() + "/files/analysis.ipynb\", \"format\": \"ipynb\"}, "
                + "{\"id\": \"r2\", \"url\": \"" + second
                + "\", \"format\": \"CSV\"}, {\"id\": \"r3\", \"url\": \"\"}]";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getRawQuery();
            if (path.equals("/api/3/action/package_show") && "id=sample-dataset-1".equals(query)) {
                send(
                        exchange,
                        200,
                        "{\"help\": \"…\", \"success\": true, \"result\": {\"name\": \"sample-dataset-1\", "
                                + "\"title\": \"Sample Dataset\", \"author\": \"Test Author\", \"metadata_modified\": "
                                + "\"2023-05-04T10:11:12.123456\", \"resources\": "
                                + resources(api.base() + "/files/table.csv?download=1") + "}}");
            } else if (path.equals("/api/3/action/package_show") && "id=leaky".equals(query)) {
                send(
                        exchange,
                        200,
                        "{\"success\": true, \"result\": {\"name\": \"leaky\", \"metadata_modified\": "
                                + "\"2023-05-04T10:11:12\", \"resources\": "
                                + resources("http://internal.example/secret.csv") + "}}");
            } else if (path.equals("/api/3/action/activity_show")) {
                send(
                        exchange,
                        200,
                        "{\"success\": true, \"result\": {\"id\": \"0a1b\", \"timestamp\": \"2022-01-01T00:00:00.000000\", "
                                + "\"data\": {\"package\": {\"name\": \"sample-dataset-1\", \"title\": \"Sample Dataset (old)\", "
                                + "\"resources\": " + resources(api.base() + "/files/table.csv") + "}}}}");
            } else if (path.equals("/files/analysis.ipynb")) {
                send(exchange, 200, "{}");
            } else if (path.equals("/files/table.csv")) {
                send(exchange, 200, "a,b\n");
            } else {
                send(
                        exchange,
                        404,
                        "{\"help\": \"…\", \"error\": {\"__type\": \"Not Found Error\", \"message\": \"Not found\"}, "
                                + "\"success\": false}");
            }
        }
    }

    private static String encode(String url) {
        return URLEncoder.encode(url, StandardCharsets.UTF_8);
    }

    @Test
    void aDatasetResolvesToItsModificationDateAndItsResourcesLandUnderTheirNames() throws IOException {
        CkanRepoProvider ckan = new CkanRepoProvider();
        ArchiveFetcher fetcher = api.fetcher();
        String spec = encode(api.base() + "/dataset/sample-dataset-1");
        ArchiveRecord record = ckan.resolve(ckan.parse(spec), fetcher.begin());

        assertThat(record.version()).isEqualTo("sample-dataset-1.v1683195072");
        assertThat(record.resolvedSpec()).isEqualTo(spec);
        assertThat(record.title()).isEqualTo("Sample Dataset");
        assertThat(record.authors()).containsExactly("Test Author");
        assertThat(record.files())
                .extracting(ArchiveRecord.ArchiveFile::name)
                .containsExactly("analysis.ipynb", "table.csv");

        Path repo = api.fetchInto(fetcher, record);
        assertThat(Files.readString(repo.resolve("table.csv"))).isEqualTo("a,b\n");
        assertThat(repo.resolve("analysis.ipynb")).exists();
    }

    @Test
    void aRevisionLinkLaunchesThatRevision() {
        CkanRepoProvider ckan = new CkanRepoProvider();
        ArchiveRecord record = ckan.resolve(
                ckan.parse(encode(api.base() + "/dataset/sample-dataset-1/history/0a1b")),
                api.fetcher().begin());
        assertThat(record.version()).isEqualTo("sample-dataset-1.v1640995200");
        assertThat(record.title()).isEqualTo("Sample Dataset (old)");
    }

    @Test
    void aResourceOnAPrivateAddressIsRefusedAndNothingIsLeft() {
        CkanRepoProvider ckan = new CkanRepoProvider();
        ArchiveFetcher fetcher = api.fetcher();
        ArchiveRecord record = ckan.resolve(ckan.parse(encode(api.base() + "/dataset/leaky")), fetcher.begin());
        Path repo = api.repo();
        assertThatThrownBy(() -> api.fetchInto(fetcher, record))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("internal.example resolves to a private network address")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(403));
        assertThat(repo.toFile().list()).isEmpty();
    }

    @Test
    void anUnknownDatasetIsASentence() {
        CkanRepoProvider ckan = new CkanRepoProvider();
        assertThatThrownBy(() -> ckan.resolve(
                        ckan.parse(encode(api.base() + "/dataset/nope")),
                        api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("The CKAN site at good.example has no dataset nope")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(404));
    }

    @Test
    void aLinkThatIsNoDatasetIsRefusedWhenParsed() {
        for (String bad :
                List.of("not-a-url", encode("https://demo.ckan.org/organization/x"), encode("file:///dataset/x"))) {
            assertThatThrownBy(() -> new CkanRepoProvider().parse(bad))
                    .as(bad)
                    .isInstanceOf(RepoException.class)
                    .hasMessageContaining("is not the URL of a CKAN dataset");
        }
    }
}
