package dev.ferry.workshop;

import java.time.Duration;
import java.time.Instant;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.springframework.beans.factory.annotation.Autowired;

import dev.ferry.platform.local.LocalPlatformTestSupport;

/** Workshops on the local platform: after each test, every workshop ended (seen to end), every session stopped. */
abstract class WorkshopTestSupport extends LocalPlatformTestSupport {

    @Autowired
    WorkshopService workshops;

    /** A workshop of a one-file repo, built and with its seats reserved: ready for attendees. */
    Workshop readyWorkshop(String name, int seats) throws Exception {
        String repo = GIT.createRepo("workshop-" + name, files("README.md", "# " + name + "\n"));
        Workshop w = workshops.create(new WorkshopService.CreateRequest(
                name,
                "git/" + encode(repo) + "/main",
                Instant.now().plusSeconds(300),
                Instant.now().plusSeconds(3600),
                seats,
                0,
                base()));
        Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> w.state() == Workshop.State.READY);
        workshops.tick(Instant.now()); // reserves its seats now rather than at the next upkeep
        return w;
    }

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
