package dev.ferry.workshop;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.ferry.testing.EventStream;

/** Warm sessions are not culled while nobody has them; an attendee's idle session is, and the pool fills up again. */
@TestPropertySource(
        properties = {
            "ferry.cull.idle-timeout=3s",
            "ferry.cull.interval=1s",
            "ferry.workshop.lead-time=1h",
            "ferry.workshop.end-warning=1s"
        })
class WorkshopPoolCullTest extends WorkshopTestSupport {

    @Test
    void thePoolOutlivesTheIdleTimeoutAndRefillsAfterAnAttendeeIsCulled() throws Exception {
        String repo = GIT.createRepo("workshop-cull", files("README.md", "# cull\n"));
        Workshop w = workshops.create(new WorkshopService.CreateRequest(
                "Culling",
                "git/" + encode(repo) + "/main",
                Instant.now().plusSeconds(60),
                Instant.now().plusSeconds(3600),
                2,
                1,
                base()));
        Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> w.pooled() == 1);
        String pooled = w.pool().get(0).id();
        Thread.sleep(5_000); // longer than the idle timeout
        assertThat(sessions.find(pooled))
                .as("a warm session nobody has is not culled")
                .isPresent();

        EventStream.Result attendee = EventStream.read(
                base() + "/e/" + w.slug() + "/events",
                Map.of("Accept", "text/event-stream", "Cookie", "ferry-attendee=" + "g".repeat(32)),
                Duration.ofMinutes(1),
                Integer.MAX_VALUE);
        assertThat(attendee.last().get("phase")).isEqualTo("ready");
        assertThat((String) attendee.last().get("url")).contains(pooled);

        Awaitility.await()
                .atMost(Duration.ofSeconds(15))
                .until(() -> sessions.find(pooled).isEmpty()); // culled as idle
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> w.pooled() == 1 && w.seatsTaken() == 1);
        assertThat(w.pool().get(0).id()).isNotEqualTo(pooled);
    }
}
