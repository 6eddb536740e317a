package dev.ferry.workshop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.FerryException;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.RawHttp;

/**
 * Workshop links as a patient client tries them, with real Jupyter servers: attendees come from their own loopback
 * addresses (all of 127.0.0.0/8 is on {@code lo}) and carry the cookie the workshop's page gave them, as a browser does.
 */
@TestPropertySource(
        properties = {
            "ferry.quota.total=4",
            "ferry.workshop.lead-time=1h",
            "ferry.workshop.end-warning=1s",
            "ferry.workshop.seats-per-address=2",
            "ferry.workshop.claim-grace=4s",
            "ferry.ban-networks=127.0.0.66",
            "ferry.admin.password=instructor-secret",
            "ferry.trusted-proxies=127.0.0.1",
            "ferry.quota.queue.leave-after=2s"
        })
class WorkshopAbuseTest extends WorkshopTestSupport {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Opens the workshop's page from {@code from}, as a browser does, and returns the attendee cookie it sets. */
    private String visitPage(Workshop w, String from) throws Exception {
        return attendeeCookie(w, RawHttp.getFrom(from, port, "/e/" + w.slug(), Map.of()));
    }

    private static String attendeeCookie(Workshop w, RawHttp.Response page) {
        assertThat(page.status()).isEqualTo(200);
        String cookie = page.headers("Set-Cookie").stream()
                .filter(c -> c.startsWith("ferry-attendee="))
                .findFirst()
                .orElseThrow();
        assertThat(cookie).contains("Path=/e/" + w.slug());
        return cookie.substring(0, cookie.indexOf(';'));
    }

    /** The workshop's event stream from {@code from}, read to its end; {@code cookie} null: none sent. */
    private List<Map<String, Object>> events(Workshop w, String from, String cookie) throws Exception {
        Map<String, String> headers = cookie == null
                ? Map.of("Accept", "text/event-stream")
                : Map.of("Accept", "text/event-stream", "Cookie", cookie);
        return events(RawHttp.getFrom(from, port, "/e/" + w.slug() + "/events", headers));
    }

    private static List<Map<String, Object>> events(RawHttp.Response r) throws Exception {
        assertThat(r.status()).isEqualTo(200);
        List<Map<String, Object>> events = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: ")) {
                events.add(JSON.readValue(line.substring(6), new TypeReference<Map<String, Object>>() {}));
            }
        }
        assertThat(events).as(r.body()).isNotEmpty();
        return events;
    }

    private static Map<String, Object> last(List<Map<String, Object>> events) {
        return events.get(events.size() - 1);
    }

    private static String sessionOf(Map<String, Object> ready) {
        assertThat(ready).as("a ready event").containsEntry("phase", "ready");
        return ((String) ready.get("url")).replaceAll(".*/user/([a-z2-7]+)/$", "$1");
    }

    /** The attendee's browser reaches the session through the proxy, as it does after {@code ready}. */
    private static void openSession(Map<String, Object> ready) throws Exception {
        assertThat(new JupyterClient((String) ready.get("url"), (String) ready.get("token"))
                        .get("api/status")
                        .statusCode())
                .isEqualTo(200);
    }

    private <T> CompletableFuture<T> async(java.util.concurrent.Callable<T> call) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void aBannedAddressIsRefusedOnTheWorkshopsPageStreamAndCode() throws Exception {
        Workshop w = readyWorkshop("banned", 1);
        RawHttp.Response page = RawHttp.getFrom("127.0.0.66", port, "/e/" + w.slug(), Map.of());
        assertThat(page.status()).isEqualTo(403);
        assertThat(page.body()).contains("Requests from your network are not accepted");
        assertThat(page.headers("Set-Cookie")).as("no attendee cookie").isEmpty();

        Map<String, Object> joined = last(events(w, "127.0.0.66", "ferry-attendee=" + "q".repeat(32)));
        assertThat(joined).containsEntry("phase", "failed").containsEntry("status_code", 403);
        assertThat((String) joined.get("message")).startsWith("Requests from your network are not accepted");
        assertThat(RawHttp.getFrom("127.0.0.66", port, "/e/" + w.slug() + "/qr.svg", Map.of())
                        .status())
                .isEqualTo(403);
        assertThat(w.seatsTaken()).isZero();

        assertThat(RawHttp.getFrom("127.0.0.67", port, "/e/" + w.slug(), Map.of())
                        .status())
                .as("another address")
                .isEqualTo(200);
    }

    @Test
    void cookielessRequestsTakeNoSeatAndOneCookieTakesOneSeatAndOneAddressABoundedNumber() throws Exception {
        Workshop w = readyWorkshop("seats", 3);
        for (int i = 0; i < 2; i++) {
            Map<String, Object> refused = last(events(w, "127.0.0.80", null));
            assertThat(refused).containsEntry("phase", "failed").containsEntry("status_code", 400);
            assertThat((String) refused.get("message"))
                    .contains("Open the workshop's link")
                    .contains("/e/" + w.slug());
        }
        assertThat(w.seatsTaken()).as("cookie-less requests take no seat").isZero();
        assertThat(w.attendees()).isEmpty();

        String cookie = visitPage(w, "127.0.0.80");
        CompletableFuture<List<Map<String, Object>>> page1 = async(() -> events(w, "127.0.0.80", cookie));
        CompletableFuture<List<Map<String, Object>>> page2 = async(() -> events(w, "127.0.0.80", cookie));
        List<Map<String, Object>> ends =
                List.of(last(page1.get(90, TimeUnit.SECONDS)), last(page2.get(90, TimeUnit.SECONDS)));
        List<Map<String, Object>> ready =
                ends.stream().filter(e -> "ready".equals(e.get("phase"))).toList();
        assertThat(ready).as("%s", ends).isNotEmpty();
        assertThat(ends)
                .as("the other page is either given the same session or told it was taken over")
                .allSatisfy(e -> assertThat(e.get("phase").equals("ready")
                                || Integer.valueOf(409).equals(e.get("status_code")))
                        .isTrue());
        Set<String> sessionsOfCookie =
                ready.stream().map(WorkshopAbuseTest::sessionOf).collect(Collectors.toSet());
        assertThat(sessionsOfCookie).as("one cookie, one seat").hasSize(1);
        assertThat(w.seatsTaken()).isEqualTo(1);
        openSession(ready.get(0));

        Map<String, Object> second = last(events(w, "127.0.0.80", visitPage(w, "127.0.0.80")));
        openSession(second);
        Map<String, Object> third = last(events(w, "127.0.0.80", visitPage(w, "127.0.0.80")));
        assertThat(third)
                .as("a third seat for the same address")
                .containsEntry("phase", "failed")
                .containsEntry("status_code", 429);
        assertThat((String) third.get("message"))
                .contains("at most 2 seats to one network address")
                .contains("ask your instructor to raise the workshop's attendees per network address");

        Map<String, Object> elsewhere = last(events(w, "127.0.0.81", visitPage(w, "127.0.0.81")));
        assertThat(elsewhere).as("another address is not affected").containsEntry("phase", "ready");
        assertThat(w.seatsTaken()).isEqualTo(3);
    }

    @Test
    void theAddressesOfOneIpv6BlockShareTheBoundOfSeats() throws Exception {
        Workshop w = readyWorkshop("ipv6", 3);
        for (int i = 1; i <= 2; i++) {
            String from = "2001:db8:5:6::" + i;
            Map<String, Object> seated = last(forwarded(w, from, forwardedPage(w, from)));
            assertThat(seated).as("seat %d", i).containsEntry("phase", "ready");
            openSession(seated);
        }
        String third = "2001:db8:5:6:aaaa::3";
        Map<String, Object> refused = last(forwarded(w, third, forwardedPage(w, third)));
        assertThat(refused)
                .as("a third address of the same /64")
                .containsEntry("phase", "failed")
                .containsEntry("status_code", 429);
        String elsewhere = "2001:db8:5:7::1";
        assertThat(last(forwarded(w, elsewhere, forwardedPage(w, elsewhere))))
                .as("the next /64")
                .containsEntry("phase", "ready");
    }

    /** The workshop's page opened through the trusted proxy 127.0.0.1 for the visitor {@code from}; its cookie. */
    private String forwardedPage(Workshop w, String from) throws Exception {
        return attendeeCookie(w, RawHttp.getFrom("127.0.0.1", port, "/e/" + w.slug(), Map.of("X-Forwarded-For", from)));
    }

    /** The workshop's event stream through the trusted proxy for the visitor {@code from}, read to its end. */
    private List<Map<String, Object>> forwarded(Workshop w, String from, String cookie) throws Exception {
        return events(RawHttp.getFrom(
                "127.0.0.1",
                port,
                "/e/" + w.slug() + "/events",
                Map.of("Accept", "text/event-stream", "Cookie", cookie, "X-Forwarded-For", from)));
    }

    @Test
    void anInstructorRaisesTheSeatsPerAddressForAClassroomBehindOneAddress() throws Exception {
        String repo = GIT.createRepo("workshop-classroom", files("README.md", "# classroom\n"));
        String body = JSON.writeValueAsString(Map.of(
                "name",
                "Classroom",
                "launch",
                "git/" + encode(repo) + "/main",
                "start",
                Instant.now().plusSeconds(300).toString(),
                "end",
                Instant.now().plusSeconds(3600).toString(),
                "expectedAttendees",
                3,
                "poolSize",
                0,
                "seatsPerAddress",
                3));
        java.net.http.HttpResponse<String> created = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(base() + "/admin/api/workshops"))
                                .header(
                                        "Cookie",
                                        dev.ferry.testing.AdminLogin.cookie(port, "admin", "instructor-secret"))
                                .header("Content-Type", "application/json")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.body()).contains("\"seatsPerAddress\":3");
        Workshop w = workshops
                .find(JSON.readTree(created.body()).get("slug").asString())
                .orElseThrow();
        Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> w.state() == Workshop.State.READY);
        workshops.tick(Instant.now());

        for (int i = 0; i < 3; i++) {
            Map<String, Object> seated = last(events(w, "127.0.0.85", visitPage(w, "127.0.0.85")));
            assertThat(seated).as("attendee %d of the classroom", i + 1).containsEntry("phase", "ready");
            openSession(seated);
        }
        assertThat(w.seatsTaken()).isEqualTo(3);
    }

    /** An attendee's page following the workshop's stream from {@code from}, read as it arrives. */
    private final class LiveStream implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final List<String> comments = new ArrayList<>();

        LiveStream(Workshop w, String from, String cookie) throws Exception {
            socket = new Socket();
            socket.bind(new InetSocketAddress(from, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port));
            socket.setSoTimeout(15_000); // keepalives come every 10 s
            socket.getOutputStream()
                    .write(("GET /e/" + w.slug() + "/events HTTP/1.1\r\nHost: 127.0.0.1:" + port
                                    + "\r\nAccept: text/event-stream\r\nCookie: " + cookie + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        /** The next event (chunk sizes and keepalive comments are skipped; comments are kept). */
        Map<String, Object> next() throws Exception {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    return JSON.readValue(line.substring(6), new TypeReference<Map<String, Object>>() {});
                }
                if (line.startsWith(":")) {
                    comments.add(line);
                }
            }
            throw new java.io.EOFException("the stream ended");
        }

        /** Reads events until one whose message contains {@code text} (or a terminal one: {@code ready}, {@code failed}). */
        Map<String, Object> until(String text) throws Exception {
            while (true) {
                Map<String, Object> e = next();
                if (String.valueOf(e.get("message")).contains(text)
                        || "ready".equals(e.get("phase"))
                        || "failed".equals(e.get("phase"))) {
                    return e;
                }
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }

    @Test
    void aSeatWhoseAttendeeNeverOpensItIsFreedForTheNextInLine() throws Exception {
        Workshop w = readyWorkshop("grace", 1);
        Map<String, Object> absent = last(events(w, "127.0.0.90", visitPage(w, "127.0.0.90")));
        String absentSession = sessionOf(absent); // never opened

        try (LiveStream next = new LiveStream(w, "127.0.0.91", visitPage(w, "127.0.0.91"))) {
            Map<String, Object> inLine = next.until("seats of this workshop are taken");
            assertThat((String) inLine.get("message"))
                    .contains("All 1 seats of this workshop are taken. You are 1st in line");
            assertThat(sessions.find(absentSession))
                    .as("told while the seat is still held, not when the stream ends")
                    .isPresent();
            Map<String, Object> ready = next.until("server running");
            assertThat(ready).containsEntry("phase", "ready");
            assertThat(sessionOf(ready)).isNotEqualTo(absentSession);
            assertThat(sessions.find(absentSession))
                    .as("the unopened session was stopped")
                    .isEmpty();

            openSession(ready);
            String kept = sessionOf(ready);
            Awaitility.await()
                    .during(Duration.ofSeconds(6))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> sessions.find(kept).isPresent()); // opened: kept beyond the grace
        }
    }

    @Test
    void anAttendeeWaitsInLineOnOneStreamLongerThanTheContainersThirtySecondAsyncTimeout() throws Exception {
        Workshop w = readyWorkshop("long-line", 1);
        Map<String, Object> seated = last(events(w, "127.0.0.95", visitPage(w, "127.0.0.95")));
        openSession(seated);

        try (LiveStream waiting = new LiveStream(w, "127.0.0.96", visitPage(w, "127.0.0.96"))) {
            assertThat((String) waiting.until("in line").get("message")).contains("You are 1st in line");
            Awaitility.await()
                    .during(Duration.ofSeconds(35))
                    .atMost(Duration.ofSeconds(40))
                    .until(() -> w.waiting() == 1);
            sessions.stop(sessionOf(seated), "the test ended it.");
            Map<String, Object> ready = waiting.until("server running");
            assertThat(ready)
                    .as("the same stream, never ended and joined again")
                    .containsEntry("phase", "ready");
            assertThat(waiting.comments).as("keepalives while waiting").isNotEmpty();
        }
    }

    /** The workshop's line leaves after {@code ferry.quota.queue.leave-after} (2 s here) like every line, not after 15 s. */
    @Test
    void anAttendeeNobodyWaitsForAnyMoreLeavesTheLineAfterTheQueuesLeaveAfter() throws Exception {
        Workshop w = readyWorkshop("leave-after", 1);
        Map<String, Object> seated = last(events(w, "127.0.0.97", visitPage(w, "127.0.0.97")));
        openSession(seated); // kept beyond the claim grace: the seat stays taken

        long t0 = System.nanoTime();
        assertThatThrownBy(() -> workshops
                        .seats(w.slug(), "g".repeat(32), "127.0.0.98")
                        .place(w.repo, m -> {}, () -> false, (release, membership) -> {
                            throw new AssertionError("no seat is free: nothing may start");
                        }))
                .isInstanceOf(FerryException.class)
                .hasMessage("The attendee left the line.")
                .extracting(e -> ((FerryException) e).status())
                .isEqualTo(499);
        Duration waited = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(waited).isGreaterThanOrEqualTo(Duration.ofSeconds(2)).isLessThan(Duration.ofSeconds(10));
        assertThat(w.waiting()).isZero();
    }
}
