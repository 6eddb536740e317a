package dev.ferry.repo;

import static dev.ferry.repo.ArchiveApiStandIn.md5;
import static dev.ferry.repo.ArchiveApiStandIn.redirect;
import static dev.ferry.repo.ArchiveApiStandIn.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;

/**
 * The Dataverse provider against a stand-in answering with the shapes Harvard's Dataverse gives (BinderHub's recorded
 * {@code /api/datasets/:persistentId} answer, cut down: {@code status}, {@code data.id}, {@code latestVersion} with
 * {@code versionNumber}, {@code versionMinorNumber}, {@code versionState}, citation metadata and {@code files} with
 * {@code directoryLabel}, {@code restricted} and {@code dataFile} id, name, size and checksum), reached only through a
 * public address routed to loopback.
 */
class DataverseRepoProviderTest {

    private ArchiveApiStandIn api;
    private final List<String> asked = new CopyOnWriteArrayList<>();
    private static final byte[] SCRIPT = "print('hello')\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TABLE = "a\tb\n1\t2\n".getBytes(StandardCharsets.UTF_8);

    @BeforeEach
    void start() throws IOException {
        api = new ArchiveApiStandIn("ferry-dataverse", this::handle);
    }

    @AfterEach
    void stop() throws IOException {
        api.close();
        assertThat(api.stray()).as("connections to anything but the stand-in").isEmpty();
    }

    private String version(int major, String state) {
        return "{\"id\":337724,\"datasetId\":3035124,\"datasetPersistentId\":\"doi:10.7910/DVN/TJCLKP\","
                + "\"versionNumber\":" + major + ",\"versionMinorNumber\":0,\"versionState\":\"" + state + "\","
                + "\"metadataBlocks\":{\"citation\":{\"fields\":[{\"typeName\":\"title\",\"value\":\"Open Source at Harvard\"},"
                + "{\"typeName\":\"author\",\"value\":[{\"authorName\":{\"typeName\":\"authorName\",\"value\":\"Durbin, Philip\"}}]}]}},"
                + "\"files\":[{\"label\":\"language.py\",\"restricted\":false,\"directoryLabel\":\"code\",\"dataFile\":{\"id\":6867336,"
                + "\"filename\":\"language.py\",\"filesize\":" + SCRIPT.length + ",\"md5\":\"" + md5(SCRIPT) + "\","
                + "\"checksum\":{\"type\":\"MD5\",\"value\":\"" + md5(SCRIPT) + "\"}}},"
                + "{\"label\":\"2023-01-03.tab\",\"restricted\":false,\"directoryLabel\":\"data\",\"dataFile\":{\"id\":6867331,"
                + "\"filename\":\"2023-01-03.tab\",\"filesize\":99,\"originalFileName\":\"2023-01-03.tsv\",\"originalFileSize\":"
                + TABLE.length + ",\"md5\":\"0000\"}},"
                + "{\"label\":\"secret.csv\",\"restricted\":true,\"dataFile\":{\"id\":1,\"filename\":\"secret.csv\"}}]}";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getRawQuery();
            asked.add(path + (query == null ? "" : "?" + query));
            if (path.equals("/10.7910/DVN/TJCLKP")) {
                redirect(exchange, api.base() + "/citation?persistentId=doi:10.7910/DVN/TJCLKP");
            } else if (path.equals("/citation")) {
                redirect(exchange, api.base() + "/dataset.xhtml?persistentId=doi:10.7910/DVN/TJCLKP");
            } else if (path.equals("/dataset.xhtml")) {
                send(exchange, 200, "<html>dataset</html>".getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/api/datasets/:persistentId")
                    && "persistentId=doi%3A10.7910%2FDVN%2FTJCLKP".equals(query)) {
                send(
                        exchange,
                        200,
                        ("{\"status\":\"OK\",\"data\":{\"id\":3035124,\"identifier\":\"DVN/TJCLKP\",\"persistentUrl\":"
                                        + "\"https://doi.org/10.7910/DVN/TJCLKP\",\"protocol\":\"doi\",\"authority\":\"10.7910\",\"latestVersion\":"
                                        + version(4, "RELEASED") + "}}")
                                .getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/api/datasets/:persistentId/versions/3.0")) {
                send(
                        exchange,
                        200,
                        ("{\"status\":\"OK\",\"data\":" + version(3, "RELEASED") + "}")
                                .getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/api/datasets/:persistentId/versions/2.0")) {
                send(
                        exchange,
                        200,
                        ("{\"status\":\"OK\",\"data\":" + version(2, "DEACCESSIONED") + "}")
                                .getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/api/access/datafile/6867336")) {
                send(exchange, 200, SCRIPT);
            } else if (path.equals("/api/access/datafile/6867331") && "format=original".equals(query)) {
                send(exchange, 200, TABLE);
            } else {
                send(
                        exchange,
                        404,
                        "{\"status\":\"ERROR\",\"message\":\"Dataset with Persistent ID doi:10.7910/DVN/NOPE not found.\"}"
                                .getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private DataverseRepoProvider provider() {
        return new DataverseRepoProvider(api.base(), List.of("https://dataverse.harvard.edu", api.base() + "/"));
    }

    @Test
    void aDoiResolvesToItsInstallationAndTheLatestVersionPinnedInTheResolvedSpec() {
        ArchiveRecord record = provider()
                .resolve(provider().parse("10.7910/DVN/TJCLKP"), api.fetcher().begin());

        assertThat(record.version()).isEqualTo("3035124.v4.0");
        String pinned = api.base() + "/dataset.xhtml?persistentId=doi%3A10.7910%2FDVN%2FTJCLKP&version=4.0";
        assertThat(record.refUrl()).isEqualTo(pinned);
        assertThat(record.resolvedSpec()).isEqualTo(URLEncoder.encode(pinned, StandardCharsets.UTF_8));
        assertThat(record.title()).isEqualTo("Open Source at Harvard");
        assertThat(record.authors()).containsExactly("Durbin, Philip");
        assertThat(record.files())
                .extracting(ArchiveRecord.ArchiveFile::name)
                .containsExactly("code/language.py", "data/2023-01-03.tsv");
        assertThat(record.unpackSingle()).isFalse();
    }

    @Test
    void theResolvedSpecLaunchesThatVersionAgain() {
        String pinned = URLEncoder.encode(
                api.base() + "/dataset.xhtml?persistentId=doi%3A10.7910%2FDVN%2FTJCLKP&version=3.0",
                StandardCharsets.UTF_8);
        ArchiveRecord record =
                provider().resolve(provider().parse(pinned), api.fetcher().begin());
        assertThat(record.version()).isEqualTo("3035124.v3.0");
        assertThat(asked).noneMatch(p -> p.startsWith("/10.7910"));
    }

    @Test
    void theFilesLandInTheirFoldersTabularOnesInTheirOriginalFormat() throws IOException {
        ArchiveFetcher fetcher = api.fetcher();
        ArchiveRecord record = provider().resolve(provider().parse("10.7910/DVN/TJCLKP"), fetcher.begin());
        Path repo = api.fetchInto(fetcher, record);
        assertThat(Files.readAllBytes(repo.resolve("code/language.py"))).isEqualTo(SCRIPT);
        assertThat(Files.readAllBytes(repo.resolve("data/2023-01-03.tsv"))).isEqualTo(TABLE);
        assertThat(repo.resolve("secret.csv")).doesNotExist();
    }

    @Test
    void aDeaccessionedVersionIsASentence() {
        String spec = URLEncoder.encode(
                api.base() + "/dataset.xhtml?persistentId=doi:10.7910/DVN/TJCLKP&version=2.0", StandardCharsets.UTF_8);
        assertThatThrownBy(() ->
                        provider().resolve(provider().parse(spec), api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("is deaccessioned in this version")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(410));
    }

    @Test
    void aDoiOfAnUnknownInstallationIsRefusedBeforeItsApiIsAsked() {
        DataverseRepoProvider harvardOnly =
                new DataverseRepoProvider(api.base(), List.of("https://dataverse.harvard.edu"));
        assertThatThrownBy(() -> harvardOnly.resolve(
                        harvardOnly.parse("10.7910/DVN/TJCLKP"), api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("does not lead to a known Dataverse installation (it leads to good.example)")
                .hasMessageContaining("ferry.archives.dataverse-hosts");
        assertThat(asked).noneMatch(p -> p.startsWith("/api/"));
    }

    @Test
    void theShippedInstallationsIncludeHarvardAndOnlyParseableUrls() {
        List<String> shipped = DataverseRepoProvider.shippedInstallations();
        assertThat(shipped)
                .contains("https://dataverse.harvard.edu")
                .hasSizeGreaterThan(40)
                .allSatisfy(u -> assertThat(java.net.URI.create(u).getHost()).isNotBlank());
        DataverseRepoProvider standard = new DataverseRepoProvider("https://doi.org", shipped);
        assertThat(standard.parse(URLEncoder.encode(
                                "https://dataverse.harvard.edu/dataset.xhtml?persistentId=doi:10.7910/DVN/TJCLKP",
                                StandardCharsets.UTF_8))
                        .repoUrl())
                .startsWith("https://dataverse.harvard.edu/dataset.xhtml");
        assertThatThrownBy(() -> standard.parse(URLEncoder.encode(
                        "https://evil.example/dataset.xhtml?persistentId=doi:10.1/x", StandardCharsets.UTF_8)))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("is not a Dataverse DOI");
    }
}
