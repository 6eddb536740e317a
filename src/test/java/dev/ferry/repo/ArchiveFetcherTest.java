package dev.ferry.repo;

import static dev.ferry.repo.ArchiveApiStandIn.redirect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The archive fetcher against a real HTTP server on loopback that stands in for a public host: the guard sees the
 * public address {@link HostileResolver#PUBLIC_V4} (private addresses refused, as in production), and only that
 * address is routed to the server. Any other connection attempt is recorded and fails the test, so a broken guard
 * cannot send a packet off this machine.
 */
class ArchiveFetcherTest {

    private ArchiveApiStandIn api;
    private final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        api = new ArchiveApiStandIn("ferry-fetch", exchange -> {
            requests.incrementAndGet();
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/doi/10.5281/zenodo.1" -> redirect(exchange, "/records/1");
                case "/records/1" -> redirect(exchange, api.base() + "/api/records/1");
                case "/api/records/1" -> send(exchange, 200, "{\"id\": 1}");
                case "/to-private" -> redirect(exchange, "http://internal.example:" + api.port() + "/secret");
                case "/to-metadata" -> redirect(exchange, "http://169.254.169.254/latest/meta-data/");
                case "/to-file" -> redirect(exchange, "file:///etc/passwd");
                case "/loop" -> redirect(exchange, "/loop");
                case "/big" -> send(exchange, 200, "x".repeat(300_000));
                default -> send(exchange, 404, "{\"status\": 404, \"message\": \"PID does not exist.\"}");
            }
        });
    }

    @AfterEach
    void stop() throws IOException {
        api.close();
        assertThat(api.stray()).as("connections to anything but the stand-in").isEmpty();
    }

    private static void send(com.sun.net.httpserver.HttpExchange exchange, int status, String body) throws IOException {
        ArchiveApiStandIn.send(exchange, status, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    private String url(String path) {
        return api.base() + path;
    }

    @Test
    void aDoiIsFollowedHopByHopToTheRecord() {
        assertThat(api.fetcher().begin().landing(url("/doi/10.5281/zenodo.1")))
                .isEqualTo(new ArchiveFetcher.Landing(url("/api/records/1"), 200));
        assertThat(requests).hasValue(3);
    }

    @Test
    void aRedirectToAPrivateAddressIsRefusedBeforeItIsContacted() {
        assertThatThrownBy(() -> api.fetcher().begin().json(url("/to-private")))
                .isInstanceOf(RepoException.class)
                .hasMessage("The repository host internal.example resolves to a private network address; Ferry only "
                        + "fetches repositories from public hosts.")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(403));
        assertThat(requests).hasValue(1);
    }

    @Test
    void aRedirectToTheCloudMetadataAddressIsRefused() {
        assertThatThrownBy(() -> api.fetcher().begin().landing(url("/to-metadata")))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("Ferry only fetches repositories from public hosts")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(403));
    }

    @Test
    void aRedirectToAFileUrlIsRefused() {
        assertThatThrownBy(() -> api.fetcher().begin().landing(url("/to-file")))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("are not accepted")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(400));
    }

    @Test
    void aNameThatRebindsToAPrivateAddressAtConnectionIsRefused() {
        AtomicInteger lookups = new AtomicInteger();
        HostResolver rebinding = host -> lookups.incrementAndGet() == 1
                ? HostileResolver.lookUp(host)
                : new InetAddress[] {InetAddress.getByName("127.0.0.1")};
        assertThatThrownBy(() -> api.fetcher(1 << 20, rebinding).begin().json(url("/api/records/1")))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("loopback")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(403));
        assertThat(requests).hasValue(0);
    }

    @Test
    void aRedirectLoopEndsWithASentence() {
        assertThatThrownBy(() -> api.fetcher().begin().landing(url("/loop")))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("more than 10 redirects");
        assertThat(requests).hasValue(ArchiveFetcher.MAX_REDIRECTS + 1);
    }

    @Test
    void aDownloadLargerThanTheLimitStopsSayingSo() {
        Path file = api.dir().resolve("big.zip");
        assertThatThrownBy(() ->
                        api.fetcher(100_000, HostileResolver::lookUp).begin().download(url("/big"), file, "big.zip"))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("ferry.repo.max-fetch-size")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(413));
        assertThat(file.toFile().length()).isLessThanOrEqualTo(100_000);
    }

    @Test
    void theBudgetCoversEveryRequestOfOneFetch() {
        ArchiveFetcher.Fetch fetch =
                api.fetcher(400_000, HostileResolver::lookUp).begin();
        fetch.download(url("/big"), api.dir().resolve("one"), "one");
        assertThatThrownBy(() -> fetch.download(url("/big"), api.dir().resolve("two"), "two"))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("ferry.repo.max-fetch-size");
    }

    @Test
    void aMissingFileIsASentenceNamingIt() {
        assertThatThrownBy(() -> api.fetcher()
                        .begin()
                        .download(url("/nothing"), api.dir().resolve("f"), "data.zip"))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("Downloading data.zip from good.example failed (HTTP 404)")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(404));
    }

    @Test
    void jsonAnswersCarryTheirStatusAndBody() {
        ArchiveFetcher.JsonAnswer answer = api.fetcher().begin().json(url("/api/records/404"));
        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.body().path("message").asString()).isEqualTo("PID does not exist.");
    }
}
