package dev.ferry.repo;

import static dev.ferry.repo.ArchiveApiStandIn.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;

/**
 * The HydroShare provider against a stand-in answering with HydroShare's shapes ({@code /hsapi/resource/<id>/scimeta/
 * elements} with {@code title}, {@code creators[].name}, {@code dates[]} of {@code type} and {@code start_date}; the
 * bag download answering a JSON status until the BagIt zip is ready), reached only through a public address routed to
 * loopback.
 */
class HydroshareRepoProviderTest {

    static final String ID = "8f7c2f0341ef4180b0dc53ea1f82f52e";

    private ArchiveApiStandIn api;
    private final AtomicInteger bagRequests = new AtomicInteger();
    private volatile byte[] bag;

    @BeforeEach
    void start() throws IOException {
        api = new ArchiveApiStandIn("ferry-hydroshare", this::handle);
        bag = bag(null);
    }

    @AfterEach
    void stop() throws IOException {
        api.close();
        assertThat(api.stray()).as("connections to anything but the stand-in").isEmpty();
    }

    private static byte[] bag(String evilLink) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
            for (String[] f : List.of(
                    new String[] {ID + "/bagit.txt", "BagIt-Version: 0.96\n"},
                    new String[] {ID + "/manifest-md5.txt", "x\n"},
                    new String[] {ID + "/data/resourcemetadata.xml", "<x/>"},
                    new String[] {ID + "/data/contents/analysis.ipynb", "{}"},
                    new String[] {ID + "/data/contents/inputs/flow.csv", "q\n1\n"})) {
                ZipArchiveEntry entry = new ZipArchiveEntry(f[0]);
                entry.setUnixMode(0100644);
                zip.putArchiveEntry(entry);
                zip.write(f[1].getBytes(StandardCharsets.UTF_8));
                zip.closeArchiveEntry();
            }
            if (evilLink != null) {
                ZipArchiveEntry link = new ZipArchiveEntry(ID + "/data/contents/evil-link");
                link.setUnixMode(0120777);
                zip.putArchiveEntry(link);
                zip.write(evilLink.getBytes(StandardCharsets.UTF_8));
                zip.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/hsapi/resource/" + ID + "/scimeta/elements")) {
                send(
                        exchange,
                        200,
                        "application/json",
                        ("{\"title\": \"Snow melt model\", \"creators\": [{\"name\": \"Doe, Jane\", "
                                        + "\"order\": 1}], \"dates\": [{\"type\": \"created\", \"start_date\": \"2019-01-01T00:00:00.000000Z\"}, "
                                        + "{\"type\": \"modified\", \"start_date\": \"2019-06-13T08:48:16.123456Z\"}]}")
                                .getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/django_irods/download/bags/" + ID)) {
                if (bagRequests.incrementAndGet() == 1) {
                    send(
                            exchange,
                            200,
                            "application/json",
                            "{\"bag_status\": \"Not ready\", \"task_id\": \"1\"}".getBytes(StandardCharsets.UTF_8));
                } else {
                    send(exchange, 200, "application/zip", bag);
                }
            } else {
                send(
                        exchange,
                        404,
                        "application/json",
                        "{\"detail\": \"No resource was found\"}".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void aResourceResolvesToItsModificationDateAndItsBagPayloadBecomesTheRoot() throws IOException {
        HydroshareRepoProvider hydroshare = new HydroshareRepoProvider(List.of(api.base()));
        ArchiveFetcher fetcher = api.fetcher();
        ArchiveRecord record = hydroshare.resolve(hydroshare.parse(ID), fetcher.begin());
        assertThat(record.version()).isEqualTo(ID + ".v1560415696");
        assertThat(record.resolvedSpec()).isEqualTo(ID);
        assertThat(record.title()).isEqualTo("Snow melt model");
        assertThat(record.authors()).containsExactly("Doe, Jane");

        Path repo = api.repo();
        RecordDownloader downloader = new RecordDownloader(fetcher, 1 << 20, 100);
        assertThatThrownBy(() -> downloader.fetchInto(record, repo, line -> {}))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("still preparing the download")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(503));

        downloader.fetchInto(record, repo, line -> {});
        try (var top = Files.list(repo)) {
            assertThat(top.map(p -> p.getFileName().toString()).toList())
                    .containsExactlyInAnyOrder("analysis.ipynb", "inputs");
        }
        assertThat(Files.readString(repo.resolve("inputs/flow.csv"))).isEqualTo("q\n1\n");
    }

    @Test
    void aLinkInThePayloadThatPointsIntoTheBagIsRefusedOnceThePayloadIsTheRoot() throws IOException {
        bag = bag("../../bagit.txt");
        bagRequests.set(1); // ready at once
        HydroshareRepoProvider hydroshare = new HydroshareRepoProvider(List.of(api.base()));
        ArchiveFetcher fetcher = api.fetcher();
        ArchiveRecord record =
                hydroshare.resolve(hydroshare.parse(api.base() + "/resource/" + ID + "/"), fetcher.begin());
        Path repo = api.repo();
        assertThatThrownBy(() -> api.fetchInto(fetcher, record))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("leads outside the record's folder once unpacked");
        assertThat(repo.toFile().list()).isEmpty();
    }

    @Test
    void specsWithoutAResourceIdOrOnAnotherHostAreRefused() {
        HydroshareRepoProvider hydroshare = new HydroshareRepoProvider(List.of("https://www.hydroshare.org"));
        assertThat(hydroshare.parse("10.4211%2Fhs." + ID).repoUrl())
                .isEqualTo("https://www.hydroshare.org/resource/" + ID);
        assertThatThrownBy(() -> hydroshare.parse("not-an-id"))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("names no HydroShare resource");
        assertThatThrownBy(() -> hydroshare.parse("https%3A%2F%2Fevil.example%2Fresource%2F" + ID))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("is not on a HydroShare this Ferry launches from");
    }

    @Test
    void anUnknownResourceIsASentence() {
        HydroshareRepoProvider hydroshare = new HydroshareRepoProvider(List.of(api.base()));
        assertThatThrownBy(() -> hydroshare.resolve(
                        hydroshare.parse("0".repeat(32)), api.fetcher().begin()))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("HydroShare has no resource " + "0".repeat(32))
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(404));
    }
}
