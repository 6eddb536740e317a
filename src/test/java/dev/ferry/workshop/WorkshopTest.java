package dev.ferry.workshop;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.capacity.Capacity;
import dev.ferry.testing.AdminLogin;
import dev.ferry.testing.EventStream;

/**
 * Workshop events on the local platform with real Jupyter servers: create → build → warm pool → attendees served
 * from the pool, then on reserved seats, then in line; reservations isolated from general traffic; the end.
 */
@TestPropertySource(
        properties = {
            "ferry.admin.password=instructor-secret",
            "ferry.quota.total=4",
            "ferry.workshop.lead-time=1h",
            "ferry.workshop.end-warning=2s"
        })
class WorkshopTest extends WorkshopTestSupport {

    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @Autowired
    Capacity capacity;

    private String adminCookie;

    /** The instructor's login (the operator's credentials), made once per test. */
    private String adminCookie() throws Exception {
        if (adminCookie == null) {
            adminCookie = AdminLogin.cookie(port, "admin", "instructor-secret");
        }
        return adminCookie;
    }

    private Map<String, Object> create(String launch, int attendees, int pool) throws Exception {
        String body = json.writeValueAsString(Map.of(
                "name",
                "Intro to plotting",
                "launch",
                launch,
                "start",
                Instant.now().plusSeconds(300).toString(),
                "end",
                Instant.now().plusSeconds(3600).toString(),
                "expectedAttendees",
                attendees,
                "poolSize",
                pool));
        HttpResponse<String> r = postWorkshop(body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return json.readValue(r.body(), new TypeReference<Map<String, Object>>() {});
    }

    private EventStream.Result join(String slug, String attendee) throws Exception {
        return EventStream.read(
                base() + "/e/" + slug + "/events",
                Map.of("Accept", "text/event-stream", "Cookie", "ferry-attendee=" + attendee),
                Duration.ofMinutes(2),
                Integer.MAX_VALUE);
    }

    private static String attendee(char c) {
        return String.valueOf(c).repeat(32);
    }

    @Test
    void attendeesGetPooledSessionsAtOnceThenReservedSeatsThenALine() throws Exception {
        String repo = GIT.createRepo(
                "workshop-intro",
                files("intro.ipynb", "{\"cells\":[],\"metadata\":{},\"nbformat\":4,\"nbformat_minor\":5}"));
        Map<String, Object> created = create("git/" + encode(repo) + "/main", 2, 1);
        String slug = (String) created.get("slug");
        assertThat((String) created.get("link")).endsWith("/e/" + slug);
        Workshop w = workshops.find(slug).orElseThrow();

        Awaitility.await()
                .atMost(Duration.ofSeconds(90))
                .until(() -> w.state() == Workshop.State.READY && w.pooled() == 1);

        long t0 = System.nanoTime();
        EventStream.Result first = join(slug, attendee('a'));
        long firstMillis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(first.last().get("phase")).as(first.events().toString()).isEqualTo("ready");
        assertThat(firstMillis).as("a warm session is handed over at once").isLessThan(2_000);
        assertThat(join(slug, attendee('a')).last().get("url"))
                .as("the same attendee gets the same session back")
                .isEqualTo(first.last().get("url"));

        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> w.seatsTaken() == 2 && w.pooled() == 1);
        EventStream.Result second = join(slug, attendee('b'));
        assertThat(second.last().get("phase")).isEqualTo("ready");
        assertThat(second.last().get("url")).isNotEqualTo(first.last().get("url"));
        assertThat(w.seatsTaken())
                .as("a workshop cannot take more than its reservation")
                .isEqualTo(2);

        CompletableFuture<EventStream.Result> third = CompletableFuture.supplyAsync(() -> {
            try {
                return join(slug, attendee('c'));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> w.waiting() == 1);
        String firstSession = ((String) first.last().get("url")).replaceAll(".*/user/([a-z2-7]+)/$", "$1");
        sessions.stop(firstSession, "the test ended it.");
        EventStream.Result thirdResult = third.get(90, TimeUnit.SECONDS);
        assertThat(thirdResult.last().get("phase"))
                .as(thirdResult.events().toString())
                .isEqualTo("ready");
        assertThat(thirdResult.events())
                .anySatisfy(e -> assertThat(String.valueOf(e.get("message"))).contains("You are 1st in line"));
    }

    @Test
    void reservedSeatsAreKeptFromGeneralTrafficAndFreedWhenTheWorkshopEnds() throws Exception {
        String workshopRepo = GIT.createRepo("workshop-reserved", files("README.md", "# reserved\n"));
        String otherRepo = GIT.createRepo("general-traffic", files("README.md", "# general\n"));
        Map<String, Object> created = create("git/" + encode(workshopRepo) + "/main", 2, 0);
        String slug = (String) created.get("slug");
        Workshop w = workshops.find(slug).orElseThrow();
        Awaitility.await()
                .atMost(Duration.ofSeconds(90))
                .until(() -> w.state() == Workshop.State.READY && capacity.reserved() == 2);

        assertThat(launch(otherRepo, "main").last().get("phase")).isEqualTo("ready");
        assertThat(launch(otherRepo, "main").last().get("phase")).isEqualTo("ready");
        CompletableFuture<EventStream.Result> general = CompletableFuture.supplyAsync(() -> {
            try {
                return launch(otherRepo, "main");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> capacity.waiting() == 1);

        EventStream.Result attendee = join(slug, attendee('d'));
        assertThat(attendee.last().get("phase"))
                .as("general traffic cannot starve the workshop")
                .isEqualTo("ready");
        assertThat(general).isNotDone();

        HttpResponse<String> ended = http.send(
                HttpRequest.newBuilder(URI.create(base() + "/admin/api/workshops/" + slug + "/end"))
                        .header("Cookie", adminCookie())
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ended.statusCode()).isEqualTo(200);
        assertThat(ended.body()).contains("\"state\":\"ending\"");
        assertThat(general.get(60, TimeUnit.SECONDS).last().get("phase"))
                .as("the seats come back when it ends")
                .isEqualTo("ready");
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> w.state() == Workshop.State.ENDED);
        assertThat(sessions.find(((String) attendee.last().get("url")).replaceAll(".*/user/([a-z2-7]+)/$", "$1")))
                .isEmpty();
        assertThat(join(slug, attendee('e')).last()).containsEntry("status_code", 410);

        // remembered as ended for ferry.workshop.keep-ended (30 days), then forgotten
        workshops.tick(Instant.now().plus(Duration.ofDays(29)));
        assertThat(workshops.find(slug)).isPresent();
        workshops.tick(Instant.now().plus(Duration.ofDays(31)));
        assertThat(workshops.find(slug)).isEmpty();
        assertThat(join(slug, attendee('e')).last())
                .containsEntry("phase", "failed")
                .containsEntry("status_code", 404);
    }

    @Test
    void instructorPagesAndApiNeedTheOperatorsCredentials() throws Exception {
        for (String path : List.of("/admin/workshops", "/admin/api/workshops", "/admin")) {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create(base() + path)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(401);
        }
        assertThat(AdminLogin.as(port, "127.0.0.1:" + port, "admin", "guess").cookie())
                .as("a wrong password logs in")
                .isNull();
        HttpResponse<String> page = http.send(
                HttpRequest.newBuilder(URI.create(base() + "/admin/workshops"))
                        .header("Cookie", adminCookie())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Create a workshop");
    }

    @Test
    void badWorkshopRequestsAreExplained() throws Exception {
        String body = json.writeValueAsString(Map.of(
                "name",
                "x",
                "launch",
                "nonsense",
                "start",
                Instant.now().toString(),
                "end",
                Instant.now().plusSeconds(60).toString(),
                "expectedAttendees",
                2,
                "poolSize",
                5));
        HttpResponse<String> r = postWorkshop(body);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("warm pool must hold between 0 sessions and the expected attendees");
        assertThat(join("no-such-workshop", attendee('f')).last()).containsEntry("status_code", 404);
    }

    /** Creates a workshop through the admin API, as the admin page's form does. */
    private HttpResponse<String> postWorkshop(String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(base() + "/admin/api/workshops"))
                        .header("Cookie", adminCookie())
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
