package dev.ferry.workshop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.TempDirs;

/**
 * A workshop attendee's join is a launch like any other, with real Jupyter servers: counted in BinderHub's launch
 * metrics, written as a launch event, and its stream numbered so that a page that reconnects with
 * {@code Last-Event-ID} resumes (or replays) the same launch instead of taking a second seat.
 */
@TestPropertySource(
        properties = {"ferry.quota.total=4", "ferry.workshop.lead-time=1h", "ferry.workshop.end-warning=1s"})
class WorkshopLaunchTest extends WorkshopTestSupport {

    private static final Path EVENTS = eventsFile();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @DynamicPropertySource
    static void launchEvents(DynamicPropertyRegistry registry) {
        registry.add("ferry.events.launch-file", EVENTS::toString);
    }

    private static Path eventsFile() {
        try {
            return TempDirs.deleteOnExit(Files.createTempDirectory("ferry-workshop-events"))
                    .resolve("launches.jsonl");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The attendee's stream of workshop {@code w}, read to its end or until {@code maxEvents} events. */
    private EventStream.Result join(Workshop w, char attendee, Map<String, String> extraHeaders, int maxEvents)
            throws Exception {
        Map<String, String> headers = new HashMap<>(extraHeaders);
        headers.put("Accept", "text/event-stream");
        headers.put("Cookie", "ferry-attendee=" + String.valueOf(attendee).repeat(32));
        return EventStream.read(base() + "/e/" + w.slug() + "/events", headers, Duration.ofMinutes(2), maxEvents);
    }

    @Test
    void aJoinIsCountedInBinderHubsLaunchMetricsAndWrittenAsALaunchEvent() throws Exception {
        Workshop w = readyWorkshop("counted", 1);

        EventStream.Result joined = join(w, 'a', Map.of(), Integer.MAX_VALUE);

        assertThat(joined.last()).as(joined.events().toString()).containsEntry("phase", "ready");
        String metrics = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(base() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(metrics)
                .containsPattern("binderhub_launch_count_total\\{provider=\"Git\",repo=\""
                        + Pattern.quote(w.repo().spec().displayUrl()) + "\",status=\"success\"} 1.0");
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(EVENTS));
        List<Map<String, Object>> events = new ArrayList<>();
        for (String line : Files.readAllLines(EVENTS)) {
            events.add(JSON.readValue(line, new TypeReference<Map<String, Object>>() {}));
        }
        assertThat(events)
                .filteredOn(e -> w.repo().commit().equals(e.get("ref")))
                .singleElement()
                .satisfies(e -> assertThat(e)
                        .containsEntry("schema", "binderhub.jupyter.org/launch")
                        .containsEntry("provider", "Git")
                        .containsEntry("status", "success")
                        .containsEntry("origin", "127.0.0.1:" + port));
        assertThat(joined.phases()).as("a launch's phases").containsSubsequence("built", "launching", "ready");
        assertThat(joined.last())
                .as("the ready event of a launch")
                .containsEntry(
                        "image",
                        joined.events().stream()
                                .filter(e -> "built".equals(e.get("phase")))
                                .findFirst()
                                .orElseThrow()
                                .get("imageName"))
                .containsEntry("repo_url", w.repo().spec().displayUrl());
    }

    @Test
    void aStreamResumedWithLastEventIdContinuesTheSameLaunchAndTakesNoSecondSeat() throws Exception {
        Workshop w = readyWorkshop("resumed", 2);

        EventStream.Result first = join(w, 'b', Map.of(), 1); // the page reloads after its first event
        assertThat(first.ids()).as("each event carries its id").hasSize(1);
        String launchId = first.lastId().substring(0, first.lastId().lastIndexOf('.'));

        EventStream.Result resumed = join(w, 'b', Map.of("Last-Event-ID", first.lastId()), Integer.MAX_VALUE);
        assertThat(resumed.last()).as(resumed.events().toString()).containsEntry("phase", "ready");
        assertThat(resumed.ids())
                .as("the same launch, from the event after the last one seen")
                .allSatisfy(id -> assertThat(id).startsWith(launchId + "."))
                .doesNotContain(first.lastId())
                .startsWith(launchId + ".2");

        EventStream.Result replayed = join(w, 'b', Map.of("Last-Event-ID", launchId + ".0"), Integer.MAX_VALUE);
        List<Map<String, Object>> seen = new ArrayList<>(first.events());
        seen.addAll(resumed.events());
        assertThat(replayed.events())
                .as("replayed from its start: the same events")
                .isEqualTo(seen);

        assertThat(w.seatsTaken())
                .as("one attendee, one seat, however often the page reconnects")
                .isEqualTo(1);
        assertThat(w.attendees()).hasSize(1);
        assertThat(join(w, 'b', Map.of("Last-Event-ID", resumed.lastId()), Integer.MAX_VALUE)
                        .status())
                .as("a launch seen to its end: EventSource stops reconnecting")
                .isEqualTo(204);
    }
}
