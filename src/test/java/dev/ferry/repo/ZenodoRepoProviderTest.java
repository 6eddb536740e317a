package dev.ferry.repo;

import static dev.ferry.repo.ArchiveApiStandIn.redirect;
import static dev.ferry.repo.ArchiveApiStandIn.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Zenodo provider's grammar and resolution with private addresses refused, as in production: a stand-in on
 * loopback is reached only through the public address {@link HostileResolver#PUBLIC_V4} of {@code good.example}
 * (the "DOI resolver" and the "Zenodo" here), and every other connection attempt is recorded and fails the test.
 */
class ZenodoRepoProviderTest {

    private ArchiveApiStandIn api;
    private final List<String> paths = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        api = new ArchiveApiStandIn("ferry-zenodo", exchange -> {
            String path = exchange.getRequestURI().getPath();
            paths.add(path);
            switch (path) {
                case "/10.5281/zenodo.1" -> redirect(exchange, api.base() + "/records/2");
                case "/10.5281/zenodo.66" -> redirect(exchange, "http://internal.example/records/66");
                case "/10.1234/other.5" -> redirect(exchange, "http://git.example.org:" + api.port() + "/articles/5");
                case "/api/records/2" ->
                    send(
                            exchange,
                            200,
                            "{\"id\": 2, \"doi\": \"10.5281/zenodo.2\", \"metadata\": {"
                                    + "\"title\": \"A model\", \"upload_type\": \"software\", \"access_right\": \"open\", \"creators\": "
                                    + "[{\"name\": \"Doe, Jane\"}, {\"name\": \"Roe, Richard\"}]}}");
                case "/api/records/2/files" ->
                    send(
                            exchange,
                            200,
                            "{\"enabled\": true, \"entries\": [{\"key\": \"m.zip\", "
                                    + "\"size\": 10, \"checksum\": \"md5:0123456789abcdef0123456789abcdef\", \"links\": {\"content\": "
                                    + "\"http://internal.example/files/m.zip\"}}]}");
                default -> {
                    exchange.sendResponseHeaders(404, -1);
                    exchange.close();
                }
            }
        });
    }

    @AfterEach
    void stop() throws IOException {
        api.close();
        assertThat(api.stray()).as("connections to anything but the stand-in").isEmpty();
    }

    private ZenodoRepoProvider provider() {
        return new ZenodoRepoProvider(api.base(), List.of(api.base()));
    }

    @Test
    void aDoiResolvesThroughTheResolverToThePinnedRecordWithItsTitleAuthorsAndFiles() {
        RepoSpec spec = provider().parse("10.5281/zenodo.1");
        ArchiveRecord record = provider().resolve(spec, api.fetcher().begin());

        assertThat(record.version()).isEqualTo("2");
        assertThat(record.resolvedSpec()).isEqualTo("10.5281/zenodo.2");
        assertThat(record.refUrl()).isEqualTo(api.base() + "/10.5281/zenodo.2");
        assertThat(record.recordUrl()).isEqualTo(api.base() + "/records/2");
        assertThat(record.title()).isEqualTo("A model");
        assertThat(record.authors()).containsExactly("Doe, Jane", "Roe, Richard");
        assertThat(record.citation()).isEqualTo("A model — Doe, Jane, Roe, Richard");
        assertThat(record.unpackSingle()).isTrue();
        assertThat(record.files())
                .containsExactly(new ArchiveRecord.ArchiveFile(
                        "m.zip", "http://internal.example/files/m.zip", 10, "md5:0123456789abcdef0123456789abcdef"));
        assertThat(record.contentKey())
                .matches("[0-9a-f]{40}")
                .isEqualTo(ArchiveRecord.contentKey("zenodo", "other-version", record.files()));
        assertThat(paths).containsExactly("/10.5281/zenodo.1", "/records/2", "/api/records/2", "/api/records/2/files");
    }

    @Test
    void aDoiThatRedirectsToAPrivateAddressIsRefusedBeforeItIsContacted() {
        RepoSpec spec = provider().parse("10.5281/zenodo.66");
        assertThatThrownBy(() -> provider().resolve(spec, api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessage("The repository host internal.example resolves to a private network address; Ferry only "
                        + "fetches repositories from public hosts.")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(403));
        assertThat(paths).containsExactly("/10.5281/zenodo.66");
    }

    @Test
    void aDoiOfAnotherArchiveIsASentenceNamingWhereItLeads() {
        RepoSpec spec = provider().parse("10.1234/other.5");
        assertThatThrownBy(() -> provider().resolve(spec, api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining(
                        "The DOI 10.1234/other.5 does not lead to a Zenodo record (it leads to git.example.org)");
    }

    @Test
    void specsAreDoisInTheirCommonSpellingsOrRecordUrlsOfKnownHosts() {
        ZenodoRepoProvider zenodo = new ZenodoRepoProvider("https://doi.org", List.of("https://zenodo.org"));
        assertThat(zenodo.parse("10.5281/zenodo.3242074").repoUrl())
                .isEqualTo("https://doi.org/10.5281/zenodo.3242074");
        assertThat(zenodo.parse("doi:10.5281/zenodo.3242074").repoUrl())
                .isEqualTo("https://doi.org/10.5281/zenodo.3242074");
        assertThat(zenodo.parse("https%3A%2F%2Fdoi.org%2F10.5281%2Fzenodo.3242074")
                        .repoUrl())
                .isEqualTo("https://doi.org/10.5281/zenodo.3242074");
        assertThat(zenodo.parse("https%3A%2F%2Fzenodo.org%2Frecords%2F3242074").repoUrl())
                .isEqualTo("https://zenodo.org/records/3242074");
        for (String bad :
                List.of("zenodo.3242074", "https%3A%2F%2Fevil.example%2Frecords%2F1", "10.5281/zenodo 1", "11.1/x")) {
            assertThatThrownBy(() -> zenodo.parse(bad))
                    .as(bad)
                    .isInstanceOf(RepoException.class)
                    .hasMessageContaining("is not a Zenodo DOI or record URL")
                    .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(400));
        }
    }

    @Test
    void theDisplayRecognisesPastedDoisAndRecordUrls() {
        ProviderDisplay display = new ZenodoRepoProvider("https://doi.org", List.of("https://zenodo.org")).display();
        Pattern detect = Pattern.compile(display.detectRegex());
        for (String pasted : List.of(
                "10.5281/zenodo.3242074",
                "https://doi.org/10.5281/zenodo.3242074",
                "https://zenodo.org/records/3242074",
                "https://zenodo.org/record/3242074")) {
            assertThat(detect.matcher(pasted).matches()).as(pasted).isTrue();
        }
        assertThat(detect.matcher("https://github.com/a/b").matches()).isFalse();
        assertThat(display.refEnabled()).isFalse();
        assertThat(display.displayName()).isEqualTo("Zenodo DOI");
    }
}
