package dev.ferry.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

import dev.ferry.build.BuildProperties;
import dev.ferry.build.Phase;
import dev.ferry.repo.GitRepoProvider;

/** A launch keeps a bounded number of events, and streams that resume find their way across what it dropped. */
class LaunchTest {

    private static Launch launch(int maxLines, long maxBytes) {
        return new Launch(
                "launch",
                new GitRepoProvider().parse("https%3A%2F%2Fexample.org%2Frepo/main"),
                new BuildProperties.Log(maxLines, DataSize.ofBytes(maxBytes), 4096));
    }

    private static List<String> messages(List<LaunchEvent> events) {
        return events.stream().map(e -> (String) e.fields().get("message")).toList();
    }

    private static List<Long> seqs(List<LaunchEvent> events) {
        return events.stream().map(LaunchEvent::seq).toList();
    }

    @Test
    void keepsTheFirstAndLastEventsAtTheLineBoundAndSaysHowManyWereNotShown() throws Exception {
        Launch launch = launch(10, 1_000_000);
        for (int i = 1; i <= 30; i++) {
            launch.emit(Phase.BUILDING, "line " + i + "\n");
        }
        launch.emit(LaunchEvent.ready("done\n", Map.of()));

        List<LaunchEvent> all = launch.eventsAfter(0, 0);

        assertThat(messages(all)).hasSize(11);
        assertThat(messages(all).subList(0, 5))
                .containsExactly("line 1\n", "line 2\n", "line 3\n", "line 4\n", "line 5\n");
        assertThat(messages(all).get(5)).startsWith("… 21 lines (").contains(" not shown …");
        assertThat(all.get(5).phase()).isEqualTo(Phase.BUILDING);
        assertThat(messages(all).subList(6, 11))
                .containsExactly("line 27\n", "line 28\n", "line 29\n", "line 30\n", "done\n");
        assertThat(seqs(all)).containsExactly(1L, 2L, 3L, 4L, 5L, 26L, 27L, 28L, 29L, 30L, 31L);
        assertThat(all.get(10).terminal()).isTrue();
        assertThat(launch.lastSeq()).isEqualTo(31);
    }

    @Test
    void keepsTheFirstAndLastEventsAtTheByteBound() throws Exception {
        Launch launch = launch(10_000, 1000);
        String line = "x".repeat(99) + "\n";
        for (int i = 0; i < 1000; i++) {
            launch.emit(Phase.BUILDING, line);
        }

        List<LaunchEvent> all = launch.eventsAfter(0, 0);

        assertThat(all).hasSize(11);
        assertThat(messages(all).get(5)).startsWith("… 990 lines (96.7 KB) not shown …");
        assertThat(launch.keptBytes()).isEqualTo(1000);
        assertThat(seqs(all).subList(6, 11)).containsExactly(996L, 997L, 998L, 999L, 1000L);
    }

    @Test
    void aStreamResumingInTheDroppedMiddleIsToldHowManyLinesItMissedThenGetsTheTail() throws Exception {
        Launch launch = launch(10, 1_000_000);
        for (int i = 1; i <= 100; i++) {
            launch.emit(Phase.BUILDING, "line " + i + "\n");
        }

        List<LaunchEvent> resumed = launch.eventsAfter(40, 0); // Last-Event-ID launch.40: events 41-95 were dropped

        assertThat(messages(resumed).get(0)).startsWith("… 55 lines not shown …");
        assertThat(resumed.get(0).seq()).isEqualTo(95);
        assertThat(seqs(resumed).subList(1, resumed.size())).containsExactly(96L, 97L, 98L, 99L, 100L);

        // resuming after the marker's own id continues with the tail, with no second marker
        assertThat(seqs(launch.eventsAfter(95, 0))).containsExactly(96L, 97L, 98L, 99L, 100L);
    }

    @Test
    void aStreamResumingInTheHeadGetsTheRestOfTheHeadTheMarkerAndTheTailInOrder() throws Exception {
        Launch launch = launch(10, 1_000_000);
        for (int i = 1; i <= 100; i++) {
            launch.emit(Phase.BUILDING, "line " + i + "\n");
        }

        List<LaunchEvent> resumed = launch.eventsAfter(3, 0);

        assertThat(seqs(resumed)).containsExactly(4L, 5L, 95L, 96L, 97L, 98L, 99L, 100L);
        assertThat(messages(resumed).get(2)).startsWith("… 90 lines (");
    }

    @Test
    void aSlowStreamThatFellBehindWhileTheMiddleWasDroppedCarriesOnWithIncreasingIds() throws Exception {
        Launch launch = launch(10, 1_000_000);
        for (int i = 1; i <= 7; i++) {
            launch.emit(Phase.BUILDING, "line " + i + "\n");
        }
        List<LaunchEvent> first = launch.eventsAfter(0, 0);
        assertThat(seqs(first)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        for (int i = 8; i <= 50; i++) {
            launch.emit(Phase.BUILDING, "line " + i + "\n");
        }
        launch.emit(LaunchEvent.failed(500, "the build failed\n"));

        List<LaunchEvent> next = launch.eventsAfter(7, 0);

        assertThat(seqs(next)).isSorted().doesNotHaveDuplicates().allMatch(seq -> seq > 7);
        assertThat(messages(next).get(0)).startsWith("… 39 lines not shown …");
        assertThat(next.get(next.size() - 1).phase()).isEqualTo(Phase.FAILED);
    }

    /**
     * Many finished launches of noisy builds are kept for a while (for late and resuming streams): each keeps only
     * {@link Launch#FINISHED_MAX_LINES} events and {@link Launch#FINISHED_MAX_BYTES} once it is over, its last event
     * included, with the same numbers as before.
     */
    @Test
    void aFinishedLaunchKeepsLessButStillItsBeginningItsEndAndItsNumbers() throws Exception {
        Launch launch = launch(10_000, 4 * 1024 * 1024);
        String line = "x".repeat(3999) + "\n";
        for (int i = 0; i < 5000; i++) {
            launch.emit(Phase.BUILDING, line);
        }
        long running = launch.keptBytes();
        launch.emit(LaunchEvent.ready("done\n", Map.of()));

        List<LaunchEvent> all = launch.eventsAfter(0, 0);

        assertThat(running).as("while it runs").isGreaterThan(3L * 1024 * 1024);
        assertThat(launch.keptBytes()).as("once it finished").isLessThanOrEqualTo(Launch.FINISHED_MAX_BYTES);
        assertThat(all.size()).isLessThanOrEqualTo(Launch.FINISHED_MAX_LINES + 1);
        assertThat(all.get(0).seq()).isEqualTo(1L);
        assertThat(messages(all))
                .anySatisfy(m -> assertThat(m).contains(" not shown …").contains("a finished launch keeps"));
        assertThat(all.get(all.size() - 1).terminal()).isTrue();
        assertThat(all.get(all.size() - 1).seq()).isEqualTo(5001L);
        List<Long> seqs = seqs(all);
        assertThat(seqs).isSorted().doesNotHaveDuplicates();
        assertThat(launch.eventsAfter(4990, 0))
                .as("a stream resuming near the end")
                .extracting(LaunchEvent::seq)
                .containsExactly(4991L, 4992L, 4993L, 4994L, 4995L, 4996L, 4997L, 4998L, 4999L, 5000L, 5001L);
    }

    @Test
    void aShortFinishedLaunchIsKeptWhole() throws Exception {
        Launch launch = launch(10_000, 4 * 1024 * 1024);
        for (int i = 1; i <= 30; i++) {
            launch.emit(Phase.BUILDING, "line " + i + "\n");
        }
        launch.emit(LaunchEvent.failed(422, "it broke\n"));

        assertThat(seqs(launch.eventsAfter(0, 0))).hasSize(31).last().isEqualTo(31L);
    }
}
