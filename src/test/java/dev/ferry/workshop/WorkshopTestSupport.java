package dev.ferry.workshop;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.springframework.beans.factory.annotation.Autowired;

import dev.ferry.platform.local.LocalPlatformTestSupport;

/** Workshops on the local platform: after each test, every workshop ended (seen to end), every session stopped. */
abstract class WorkshopTestSupport extends LocalPlatformTestSupport {

    @Autowired
    WorkshopService workshops;

    @AfterEach
    void cleanUp() {
        workshops.all().forEach(w -> workshops.end(w.slug()));
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> workshops.all().stream()
                        .allMatch(w -> w.state() == Workshop.State.ENDED || w.state() == Workshop.State.FAILED));
        stopAllSessions();
    }
}
