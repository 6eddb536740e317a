package dev.ferry.repo;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;

/**
 * A research archive's API (Zenodo, Figshare, …) stood in by a loopback server whose handler the test writes with
 * that archive's response shapes. Fetchers made here reach it only through the public address
 * {@link HostileResolver#PUBLIC_V4} of {@code good.example}, as production reaches an archive; any other address they
 * try goes nowhere and is kept in {@link #stray()}, for the test to assert on.
 */
final class ArchiveApiStandIn implements AutoCloseable {

    private final HttpServer server;
    private final List<InetSocketAddress> stray = new CopyOnWriteArrayList<>();
    private final Path dir;

    /** Starts the server with the handler, and makes a temporary directory ({@code dirPrefix}…) for downloads. */
    ArchiveApiStandIn(String dirPrefix, HttpHandler handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", handler);
        server.start();
        dir = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempDirectory(dirPrefix));
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** The stand-in's address as the providers see it: a public host name. */
    String base() {
        return "http://good.example:" + port();
    }

    Path dir() {
        return dir;
    }

    /** Where a test's record is downloaded to. */
    Path repo() {
        return dir.resolve("repo");
    }

    /** Downloads the record with the fetcher that resolved it into {@link #repo()}: 1 MiB and 100 files at most. */
    Path fetchInto(ArchiveFetcher fetcher, ArchiveRecord record) {
        new RecordDownloader(fetcher, 1 << 20, 100).fetchInto(record, repo(), line -> {});
        return repo();
    }

    /** The addresses a fetcher tried other than the stand-in's. */
    List<InetSocketAddress> stray() {
        return stray;
    }

    ArchiveFetcher fetcher() {
        return fetcher(1 << 20, HostileResolver::lookUp);
    }

    /** Public hosts as production sees them; only the stand-in's public address reaches the loopback server. */
    ArchiveFetcher fetcher(long maxBytes, HostResolver resolver) {
        UrlGuard guard = new UrlGuard(List.of("http", "https"), false, resolver);
        return new ArchiveFetcher(guard, Duration.ofSeconds(5), maxBytes, Duration.ofSeconds(30), address -> {
            if (address.getAddress().getHostAddress().equals(HostileResolver.PUBLIC_V4)) {
                return new InetSocketAddress(InetAddress.getLoopbackAddress(), address.getPort());
            }
            stray.add(address);
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), 1); // nothing listens there
        });
    }

    @Override
    public void close() throws IOException {
        server.stop(0);
        RepoCheckout.deleteTree(dir);
    }

    static void redirect(HttpExchange exchange, String location) throws IOException {
        exchange.getResponseHeaders().add("Location", location);
        exchange.sendResponseHeaders(302, -1);
        exchange.close();
    }

    static void send(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, body.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", type);
        send(exchange, status, body);
    }

    /** The MD5 digest in hex, as the archives give files' checksums. */
    static String md5(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
