package dev.ferry.capacity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ferry.Ordinals;
import dev.ferry.session.LaunchFailedException;

/** Quota arithmetic and the line: order, positions, leaving, bounds. */
class CapacityTest {

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private static Capacity capacity(int total, int maxLength, Duration maxWait) {
        return new Capacity(
                new QuotaProperties(total, 0, new QuotaProperties.Queue(maxLength, maxWait, Duration.ofMillis(300))));
    }

    private CompletableFuture<Capacity.Seat> acquire(Capacity c, String repo, int repoQuota, List<String> messages) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return c.acquire(repo, repoQuota, messages::add, () -> true);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                },
                pool);
    }

    @Test
    void seatsAreGivenAtOnceWhileThereAreAny() throws Exception {
        Capacity c = capacity(2, 10, Duration.ofMinutes(1));
        Capacity.Seat a = c.acquire("r", 0, m -> {}, () -> true);
        Capacity.Seat b = c.acquire("r", 0, m -> {}, () -> true);
        assertThat(c.used()).isEqualTo(2);
        a.release();
        a.release(); // a second release gives nothing back twice
        assertThat(c.used()).isEqualTo(1);
        b.release();
        assertThat(c.used()).isZero();
    }

    @Test
    void aReservationKeepsSeatsFromGeneralLaunchesAndCountsItsOwnersRunningSessions() throws Exception {
        Capacity c = capacity(5, 10, Duration.ofSeconds(1));
        // two sessions of workshop "w" another replica started, adopted before this replica reserved its seats
        Capacity.Seat adopted1 = c.occupy("r", "w");
        Capacity.Seat adopted2 = c.occupy("r", "w");
        Capacity.Reservation w = c.reserve("w", 3);
        assertThat(w.taken())
                .as("the adopted sessions count as taken from the reservation")
                .isEqualTo(2);
        assertThat(c.used()).isEqualTo(2);
        assertThat(c.reserved()).isEqualTo(1);
        // general launches get the 2 seats neither used nor reserved, then wait
        Capacity.Seat general1 = c.acquire("g", 0, m -> {}, () -> true);
        Capacity.Seat general2 = c.acquire("g", 0, m -> {}, () -> true);
        assertThatThrownBy(() -> c.acquire("g", 0, m -> {}, () -> true)).isInstanceOf(LaunchFailedException.class);
        // a session of "w" adopted now takes the reservation's last seat; the workshop cannot take more
        Capacity.Seat adopted3 = c.occupy("r", "w");
        assertThat(w.taken()).isEqualTo(3);
        assertThat(w.take("r")).isNull();
        // a fourth, adopted while the reservation is full, holds a seat beyond it...
        Capacity.Seat beyond = c.occupy("r", "w");
        assertThat(c.used()).isEqualTo(6);
        // ...and takes the reserved seat an ended session of the workshop gives back
        adopted1.release();
        assertThat(w.taken()).isEqualTo(3);
        assertThat(c.reserved()).isZero();
        assertThat(c.used()).isEqualTo(5);
        // with nobody beyond it, a freed seat goes back to the workshop, not to general launches
        adopted2.release();
        assertThat(c.reserved()).isEqualTo(1);
        Capacity.Seat again = w.take("r");
        assertThat(again).isNotNull();
        w.close();
        List.of(adopted3, beyond, again, general1, general2).forEach(Capacity.Seat::release);
        assertThat(c.reserved()).isZero();
        assertThat(c.used()).isZero();
    }

    @Test
    void theLineIsServedInArrivalOrderWithPositionsThatOnlyGoDown() throws Exception {
        Capacity c = capacity(1, 100, Duration.ofMinutes(1));
        Capacity.Seat first = c.acquire("r", 0, m -> {}, () -> true);
        List<Integer> servedOrder = Collections.synchronizedList(new ArrayList<>());
        List<List<String>> messages = new ArrayList<>();
        List<CompletableFuture<Capacity.Seat>> waiting = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            List<String> m = new CopyOnWriteArrayList<>();
            messages.add(m);
            int n = i;
            waiting.add(acquire(c, "r", 0, m).thenApply(seat -> {
                servedOrder.add(n);
                return seat;
            }));
            int expected = i + 1;
            Awaitility.await().until(() -> c.waiting() == expected);
        }
        first.release();
        for (int i = 0; i < 5; i++) {
            Capacity.Seat seat = waiting.get(i).get(5, TimeUnit.SECONDS);
            Thread.sleep(20);
            seat.release();
        }
        assertThat(servedOrder).containsExactly(0, 1, 2, 3, 4);
        assertThat(messages.get(4).get(0)).contains("You are 5th in line");
        List<Integer> positions = messages.get(4).stream()
                .map(m -> Integer.parseInt(
                        m.replaceAll(".*You are (\\d+)\\w\\w in line.*", "$1").trim()))
                .toList();
        assertThat(positions).isSortedAccordingTo(Collections.reverseOrder());
        assertThat(positions).contains(5, 1);
    }

    @Test
    void aRepositoryAtItsQuotaDoesNotHoldBackOthersButKeepsItsPlace() throws Exception {
        Capacity c = capacity(3, 100, Duration.ofMinutes(1));
        Capacity.Seat popular = c.acquire("popular", 1, m -> {}, () -> true);
        List<String> messages = new CopyOnWriteArrayList<>();
        CompletableFuture<Capacity.Seat> blocked = acquire(c, "popular", 1, messages);
        Awaitility.await().until(() -> c.waiting() == 1);
        Capacity.Seat other = acquire(c, "other", 1, new ArrayList<>()).get(5, TimeUnit.SECONDS);
        assertThat(other).isNotNull();
        assertThat(blocked).isNotDone();
        Awaitility.await().until(() -> !messages.isEmpty());
        assertThat(messages.get(0))
                .startsWith("This repository has as many sessions running as it may. You are 1st in line");
        popular.release();
        assertThat(blocked.get(5, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void aFullLineRefusesWithASentence() throws Exception {
        Capacity c = capacity(1, 1, Duration.ofMinutes(1));
        c.acquire("r", 0, m -> {}, () -> true);
        acquire(c, "r", 0, new ArrayList<>());
        Awaitility.await().until(() -> c.waiting() == 1);
        assertThatThrownBy(() -> c.acquire("r", 0, m -> {}, () -> true))
                .isInstanceOf(LaunchFailedException.class)
                .hasMessageContaining("1 launches are already waiting for a seat")
                .hasMessageContaining("Try again in a few minutes");
    }

    @Test
    void waitingTooLongFailsSayingWhenToComeBack() throws Exception {
        Capacity c = capacity(1, 10, Duration.ofMillis(400));
        c.acquire("r", 0, m -> {}, () -> true);
        assertThatThrownBy(() -> c.acquire("r", 0, m -> {}, () -> true))
                .isInstanceOf(LaunchFailedException.class)
                .hasMessageContaining("No seat became free within 400 milliseconds")
                .hasMessageContaining("Try again in");
        assertThat(c.waiting()).isZero();
    }

    @Test
    void aLaunchNobodyWaitsForLeavesTheLine() throws Exception {
        Capacity c = capacity(1, 10, Duration.ofMinutes(1));
        Capacity.Seat held = c.acquire("r", 0, m -> {}, () -> true);
        CompletableFuture<Capacity.Seat> gone = CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return c.acquire("r", 0, m -> {}, () -> false);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                },
                pool);
        assertThatThrownBy(() -> gone.get(5, TimeUnit.SECONDS))
                .hasCauseInstanceOf(LaunchFailedException.class)
                .hasMessageContaining("left the line");
        assertThat(c.waiting()).isZero();
        held.release();
        assertThat(c.used()).isZero();
    }

    @Test
    void estimatesFollowHowFastSeatsFreeUp() throws Exception {
        Capacity c = capacity(1, 10, Duration.ofMinutes(1));
        for (int i = 0; i < 3; i++) {
            c.acquire("r", 0, m -> {}, () -> true).release();
        }
        c.acquire("r", 0, m -> {}, () -> true);
        List<String> messages = new CopyOnWriteArrayList<>();
        acquire(c, "r", 0, messages);
        Awaitility.await().until(() -> !messages.isEmpty());
        assertThat(messages.get(0))
                .isEqualTo(
                        "This Ferry has as many sessions running as it can. You are 1st in line, less than a minute.\n");
    }

    @Test
    void ordinalsReadAsPeopleSayThem() {
        assertThat(List.of(1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 112).stream()
                        .map(Ordinals::of)
                        .toList())
                .containsExactly("1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "112th");
    }

    /** #19.9: a platform still reading the running sessions counts too few; no seat is given on that count. */
    @Test
    void noSeatIsGivenBeforeEveryRunningSessionIsCounted() throws Exception {
        Capacity c = capacity(1, 10, Duration.ofMinutes(1));
        AtomicBoolean counted = new AtomicBoolean();
        c.countedWhen(counted::get);
        List<String> messages = new CopyOnWriteArrayList<>();

        CompletableFuture<Capacity.Seat> launch = acquire(c, "r", 0, messages);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !messages.isEmpty());
        assertThat(messages.get(0)).contains("still counting the sessions running");
        c.occupy("r"); // the listing arrives: one session is running already, the quota is full
        counted.set(true);

        Thread.sleep(500);
        assertThat(launch).isNotDone(); // it waits in line instead of taking a seat the count did not have
        assertThat(c.used()).isEqualTo(1);
    }
}
