package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.ferry.capacity.Capacity;
import dev.ferry.testing.EventStream;

/** With the total quota full, launches wait in line with their position, and are served in order as seats free up. */
@TestPropertySource(properties = {"ferry.quota.total=2", "ferry.quota.queue.leave-after=60s"})
class QueueLaunchTest extends LocalPlatformTestSupport {

    @Autowired
    Capacity capacity;

    @AfterEach
    void stop() {
        stopAllSessions();
    }

    @Test
    void launchesBeyondTheQuotaWaitInLineAndAreServedInOrder() throws Exception {
        String repo = GIT.createRepo("queued", files("README.md", "# queued\n"));
        assertThat(launch(repo, "main").last().get("phase")).isEqualTo("ready"); // built, and one seat taken
        assertThat(launch(repo, "main").last().get("phase")).isEqualTo("ready"); // the second seat

        List<CompletableFuture<EventStream.Result>> waiting = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            waiting.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return launch(repo, "main");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
            int expected = i + 1;
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> capacity.waiting() == expected);
        }
        assertThat(sessions.sessions()).hasSize(2);

        // free one seat: the first in line gets it, the second moves up
        sessions.stop(sessions.sessions().iterator().next().id(), "the test freed a seat.");
        EventStream.Result third = waiting.get(0).get(60, TimeUnit.SECONDS);
        assertThat(third.last().get("phase")).isEqualTo("ready");
        assertThat(waiting.get(1)).isNotDone();
        assertThat(messages(third)).anyMatch(m -> m.contains("You are 1st in line"));

        sessions.stop(sessions.sessions().iterator().next().id(), "the test freed a seat.");
        EventStream.Result fourth = waiting.get(1).get(60, TimeUnit.SECONDS);
        assertThat(fourth.last().get("phase")).isEqualTo("ready");
        List<String> fourthMessages = messages(fourth);
        assertThat(fourthMessages).anyMatch(m -> m.contains("You are 2nd in line"));
        assertThat(fourthMessages).anyMatch(m -> m.contains("You are 1st in line"));
        assertThat(fourthMessages.indexOf(fourthMessages.stream()
                        .filter(m -> m.contains("2nd in line"))
                        .findFirst()
                        .orElseThrow()))
                .isLessThan(fourthMessages.indexOf(fourthMessages.stream()
                        .filter(m -> m.contains("1st in line"))
                        .findFirst()
                        .orElseThrow()));
        assertThat(sessions.sessions()).hasSize(2);
        assertThat(capacity.used()).isEqualTo(2);
    }

    private static List<String> messages(EventStream.Result result) {
        return result.events().stream()
                .filter(e -> "waiting".equals(e.get("phase")))
                .map(e -> (String) e.get("message"))
                .toList();
    }

    @Test
    void aSessionThatEndsGivesItsSeatBack() throws Exception {
        String repo = GIT.createRepo("seat-back", files("README.md", "# seat\n"));
        Map<String, Object> ready = launch(repo, "main").last();
        int before = capacity.used();
        sessions.stop(sessionId(ready), "the test ended it.");
        assertThat(capacity.used()).isEqualTo(before - 1);
    }
}
