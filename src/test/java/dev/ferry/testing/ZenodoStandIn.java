package dev.ferry.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.json.JsonMapper;

/**
 * A stand-in for a DOI resolver and a Zenodo installation on loopback, answering with the shapes of the real services:
 * {@code <base>/resolver/<doi>} redirects like doi.org to {@code <base>/doi/<doi>}, which redirects like Zenodo to
 * {@code <base>/records/<id>} (a concept DOI to its latest version); {@code /api/records/<id>} is the record's JSON
 * (id, doi, conceptdoi, metadata with title, creators, upload_type, access_right; files with key, size, md5 checksum,
 * links), {@code /api/records/<id>/files} its files list ({@code entries} with {@code links.content}), and the content
 * links serve the bytes. Records can be deleted (410), embargoed, restricted, or the API rate-limited (429).
 */
public final class ZenodoStandIn implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** One record's version. */
    public record Record(
            long id,
            long conceptId,
            String title,
            List<String> creators,
            String uploadType,
            String accessRight,
            Map<String, byte[]> files) {}

    private final HttpServer server;
    private final Map<Long, Record> records = new ConcurrentHashMap<>();
    private final Map<Long, Long> latest = new ConcurrentHashMap<>();
    private final Map<Long, Integer> gone = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> downloads = new ConcurrentHashMap<>();
    private volatile boolean rateLimited;

    public ZenodoStandIn() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The DOI resolver's base URL ({@code ferry.archives.doi-resolver}). */
    public String resolver() {
        return base() + "/resolver";
    }

    public void add(Record record) {
        records.put(record.id(), record);
        latest.merge(record.conceptId(), record.id(), Math::max);
    }

    /** The record answers 410 from now on, as Zenodo does for a deleted record. */
    public void delete(long id) {
        gone.put(id, 410);
    }

    public void rateLimit(boolean on) {
        rateLimited = on;
    }

    /** How often the record's API (its JSON and its files list) was asked. */
    public int apiCalls(long id) {
        AtomicInteger n = downloads.get(id + "/api");
        return n == null ? 0 : n.get();
    }

    /** How often the file was downloaded. */
    public int downloads(long id, String key) {
        AtomicInteger n = downloads.get(id + "/" + key);
        return n == null ? 0 : n.get();
    }

    /** A zip archive holding these files (name, then content). */
    public static byte[] zip(String... nameThenContent) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (int i = 0; i < nameThenContent.length; i += 2) {
                zip.putNextEntry(new ZipEntry(nameThenContent[i]));
                zip.write(nameThenContent[i + 1].getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String[] parts = path.split("/");
            if (path.startsWith("/resolver/10.5281/zenodo.")) {
                long id = Long.parseLong(path.substring("/resolver/10.5281/zenodo.".length()));
                if (!records.containsKey(id) && !latest.containsKey(id)) {
                    send(exchange, 404, "text/html", "<html><body>DOI Not Found</body></html>");
                } else {
                    redirect(exchange, 302, base() + "/doi/10.5281/zenodo." + id);
                }
            } else if (path.startsWith("/doi/10.5281/zenodo.")) {
                long id = Long.parseLong(path.substring("/doi/10.5281/zenodo.".length()));
                redirect(exchange, 301, base() + "/records/" + latest.getOrDefault(id, id));
            } else if (parts.length == 3 && parts[1].equals("records")) {
                send(exchange, 200, "text/html", "<html><body>record " + parts[2] + "</body></html>");
            } else if (path.startsWith("/api/records/")) {
                api(exchange, parts);
            } else {
                error(exchange, 404, "Not found.");
            }
        }
    }

    private void api(HttpExchange exchange, String[] parts) throws IOException {
        if (rateLimited) {
            exchange.getResponseHeaders().add("Retry-After", "42");
            exchange.getResponseHeaders().add("X-RateLimit-Limit", "133");
            exchange.getResponseHeaders().add("X-RateLimit-Remaining", "0");
            error(exchange, 429, "Too Many Requests");
            return;
        }
        long id;
        try {
            id = Long.parseLong(parts[3]);
        } catch (NumberFormatException e) {
            error(exchange, 404, "The persistent identifier does not exist.");
            return;
        }
        Record record = records.get(id);
        if (parts.length <= 5) {
            downloads.computeIfAbsent(id + "/api", k -> new AtomicInteger()).incrementAndGet();
        }
        if (gone.containsKey(id)) {
            error(exchange, 410, "The record has been deleted.");
            return;
        }
        if (record == null) {
            error(exchange, 404, "The persistent identifier does not exist.");
            return;
        }
        boolean open = record.accessRight().equals("open");
        if (parts.length == 4) {
            send(exchange, 200, "application/json", JSON.writeValueAsString(recordJson(record)));
        } else if (parts.length == 5 && parts[4].equals("files")) {
            if (!open) {
                error(exchange, 403, "You do not have permission to access this record's files.");
                return;
            }
            send(exchange, 200, "application/json", JSON.writeValueAsString(filesJson(record)));
        } else if (parts.length == 7 && parts[4].equals("files") && parts[6].equals("content")) {
            String key = java.net.URLDecoder.decode(parts[5], StandardCharsets.UTF_8);
            byte[] content = record.files().get(key);
            if (content == null || !open) {
                error(exchange, content == null ? 404 : 403, "File not found.");
                return;
            }
            downloads.computeIfAbsent(id + "/" + key, k -> new AtomicInteger()).incrementAndGet();
            exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, content.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(content);
            }
        } else {
            error(exchange, 404, "Not found.");
        }
    }

    private Map<String, Object> recordJson(Record record) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("title", record.title());
        metadata.put("doi", "10.5281/zenodo." + record.id());
        metadata.put("publication_date", "2024-05-01");
        metadata.put("upload_type", record.uploadType());
        metadata.put(
                "creators",
                record.creators().stream()
                        .map(n -> Map.of("name", n, "affiliation", "Somewhere"))
                        .toList());
        metadata.put("access_right", record.accessRight());
        if (record.accessRight().equals("embargoed")) {
            metadata.put("embargo_date", "2031-01-01");
        }
        metadata.put("license", Map.of("id", "cc-by-4.0"));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("created", "2024-05-01T10:00:00.000000+00:00");
        json.put("modified", "2024-05-02T10:00:00.000000+00:00");
        json.put("id", record.id());
        json.put("conceptrecid", String.valueOf(record.conceptId()));
        json.put("doi", "10.5281/zenodo." + record.id());
        json.put("conceptdoi", "10.5281/zenodo." + record.conceptId());
        json.put("doi_url", "https://doi.org/10.5281/zenodo." + record.id());
        json.put("metadata", metadata);
        json.put("title", record.title());
        json.put(
                "links",
                Map.of("self", base() + "/api/records/" + record.id(), "html", base() + "/records/" + record.id()));
        List<Map<String, Object>> files = new ArrayList<>();
        if (record.accessRight().equals("open")) {
            record.files()
                    .forEach((key, content) -> files.add(Map.of(
                            "id",
                            key + "-id",
                            "key",
                            key,
                            "size",
                            content.length,
                            "checksum",
                            "md5:" + md5(content),
                            "links",
                            Map.of("self", contentUrl(record, key)))));
        }
        json.put("files", files);
        json.put("status", "published");
        json.put("state", "done");
        json.put("submitted", true);
        return json;
    }

    private Map<String, Object> filesJson(Record record) {
        List<Map<String, Object>> entries = new ArrayList<>();
        record.files().forEach((key, content) -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("key", key);
            entry.put("storage_class", "L");
            entry.put("checksum", "md5:" + md5(content));
            entry.put("size", content.length);
            entry.put("status", "completed");
            entry.put("mimetype", key.endsWith(".zip") ? "application/zip" : "application/octet-stream");
            entry.put(
                    "links",
                    Map.of(
                            "self",
                            base() + "/api/records/" + record.id() + "/files/" + key,
                            "content",
                            contentUrl(record, key)));
            entries.add(entry);
        });
        return Map.of(
                "enabled",
                true,
                "entries",
                entries,
                "links",
                Map.of("self", base() + "/api/records/" + record.id() + "/files"),
                "order",
                List.of());
    }

    private String contentUrl(Record record, String key) {
        return base() + "/api/records/" + record.id() + "/files/"
                + java.net.URLEncoder.encode(key, StandardCharsets.UTF_8) + "/content";
    }

    private static String md5(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(content));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void redirect(HttpExchange exchange, int status, String location) throws IOException {
        exchange.getResponseHeaders().add("Location", location);
        exchange.sendResponseHeaders(status, -1);
    }

    private static void error(HttpExchange exchange, int status, String message) throws IOException {
        send(
                exchange,
                status,
                "application/json",
                JSON.writeValueAsString(Map.of("status", status, "message", message)));
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
