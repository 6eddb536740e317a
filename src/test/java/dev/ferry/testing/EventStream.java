package dev.ferry.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** Reads BinderHub's build event stream the way a client does: one {@code data:} JSON object per event. */
public final class EventStream {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The events and ids of one stream, read until it ends. */
    public record Result(int status, List<Map<String, Object>> events, List<String> ids, List<String> comments) {

        public Map<String, Object> last() {
            return events.get(events.size() - 1);
        }

        public List<String> phases() {
            return events.stream().map(e -> (String) e.get("phase")).toList();
        }

        public String lastId() {
            return ids.isEmpty() ? null : ids.get(ids.size() - 1);
        }
    }

    private EventStream() {}

    public static Result read(String url) throws Exception {
        return read(url, Map.of("Accept", "text/event-stream"), Duration.ofMinutes(5), Integer.MAX_VALUE);
    }

    /** Reads the stream until it ends, or until {@code maxEvents} events were read (then disconnects). */
    public static Result read(String url, Map<String, String> headers, Duration timeout, int maxEvents)
            throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET();
        headers.forEach(request::header);
        HttpResponse<java.io.InputStream> response =
                HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        List<Map<String, Object>> events = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        List<String> comments = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while (events.size() < maxEvents && (line = in.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    events.add(JSON.readValue(line.substring(6), new TypeReference<Map<String, Object>>() {}));
                } else if (line.startsWith("id: ")) {
                    ids.add(line.substring(4));
                } else if (line.startsWith(":")) {
                    comments.add(line);
                }
            }
        }
        return new Result(response.statusCode(), events, ids, comments);
    }
}
