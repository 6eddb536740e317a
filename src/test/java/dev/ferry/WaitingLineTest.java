package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one waiting line: order, positions in the owner's words, leaving, bounds, interruption, fairness. */
class WaitingLineTest {

    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Object monitor = new Object();
    /** Seats the tests' owner hands out; guarded by {@code monitor}. */
    private int freeSeats;

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    /** A waiter: its name and the seat it got. */
    private static final class Waiter {
        final String name;
        boolean seated;

        Waiter(String name) {
            this.name = name;
        }
    }

    private static final WaitingLine.Words<Waiter> WORDS = new WaitingLine.Words<>() {
        @Override
        public String position(int position, Waiter waiter) {
            return waiter.name + " is " + Ordinals.of(position);
        }

        @Override
        public FerryException left() {
            return new FerryException(499, "the waiter left");
        }
    };

    private WaitingLine<Waiter> line(int maxLength, Duration maxWait, Duration leaveAfter) {
        return new WaitingLine<>(monitor, new WaitingLine.Limits(maxLength, maxWait, leaveAfter), WORDS);
    }

    private WaitingLine<Waiter> line() {
        return line(0, Duration.ofMinutes(1), Duration.ofMinutes(1));
    }

    /** The owner frees one seat and serves the line with it, as Capacity does when a session ends. */
    private void freeOneSeat(WaitingLine<Waiter> line) {
        synchronized (monitor) {
            freeSeats++;
            line.serve(w -> {
                if (freeSeats == 0) {
                    return false;
                }
                freeSeats--;
                w.seated = true;
                return true;
            });
        }
    }

    /** Joins and waits for a seat on another thread, telling {@code said} what the line says. */
    private Future<Waiter> waitForSeat(
            WaitingLine<Waiter> line, Waiter waiter, List<String> said, BooleanSupplier wanted) {
        WaitingLine<Waiter>.Ticket ticket = line.join(waiter);
        return threads.submit(() -> {
            try (ticket) {
                return line.await(
                        ticket,
                        t -> t.item().seated ? WaitingLine.Look.served(t.item()) : WaitingLine.Look.inLine(),
                        said::add,
                        wanted);
            }
        });
    }

    @Test
    void seatsAreGivenInArrivalOrder() throws Exception {
        WaitingLine<Waiter> line = line();
        List<String> served = new CopyOnWriteArrayList<>();
        List<Future<Waiter>> waiting = new ArrayList<>();
        for (String name : List.of("a", "b", "c")) {
            waiting.add(waitForSeat(line, new Waiter(name), new ArrayList<>(), () -> true));
        }
        assertThat(line.items()).extracting(w -> w.name).containsExactly("a", "b", "c");
        for (Future<Waiter> next : waiting) {
            freeOneSeat(line);
            served.add(next.get(5, TimeUnit.SECONDS).name);
            assertThat(waiting.stream().filter(Future::isDone)).hasSize(served.size()); // one seat, one waiter served
        }
        assertThat(served).containsExactly("a", "b", "c");
        assertThat(line.size()).isZero();
    }

    @Test
    void aWaiterIsToldItsPositionInTheOwnersWordsWhenItChanges() throws Exception {
        WaitingLine<Waiter> line = line();
        List<Future<Waiter>> ahead = List.of(
                waitForSeat(line, new Waiter("a"), new ArrayList<>(), () -> true),
                waitForSeat(line, new Waiter("b"), new ArrayList<>(), () -> true));
        List<String> said = new CopyOnWriteArrayList<>();
        Future<Waiter> c = waitForSeat(line, new Waiter("c"), said, () -> true);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> said.contains("c is 3rd"));
        for (int i = 0; i < ahead.size(); i++) {
            freeOneSeat(line);
            ahead.get(i).get(5, TimeUnit.SECONDS);
            String now = "c is " + Ordinals.of(2 - i);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> said.contains(now));
        }
        Thread.sleep(1500); // more looks at the line (one a second) say nothing new
        assertThat(said).containsExactly("c is 3rd", "c is 2nd", "c is 1st");
        freeOneSeat(line);
        assertThat(c.get(5, TimeUnit.SECONDS).seated).isTrue();
    }

    @Test
    void aTurnMaySaySomethingElseThanThePosition() throws Exception {
        WaitingLine<Waiter> line = line();
        WaitingLine<Waiter>.Ticket ticket = line.join(new Waiter("a"));
        List<String> said = new CopyOnWriteArrayList<>();
        Future<Waiter> waiting = threads.submit(() -> line.await(
                ticket,
                t -> t.item().seated ? WaitingLine.Look.served(t.item()) : WaitingLine.Look.saying("being built"),
                said::add,
                () -> true));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !said.isEmpty());
        freeOneSeat(line);
        waiting.get(5, TimeUnit.SECONDS);
        assertThat(said).containsExactly("being built");
    }

    @Test
    void aWaiterNobodyWaitsForLeavesAfterLeaveAfter() throws Exception {
        WaitingLine<Waiter> line = line(0, Duration.ofMinutes(1), Duration.ofMillis(300));
        long start = System.nanoTime();
        Future<Waiter> gone = waitForSeat(line, new Waiter("a"), new ArrayList<>(), () -> false);
        assertThatThrownBy(() -> gone.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(FerryException.class)
                .hasMessage("the waiter left");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(line.size()).isZero();
    }

    @Test
    void aWaiterWhoseClientComesBackStays() throws Exception {
        WaitingLine<Waiter> line = line(0, Duration.ofMinutes(1), Duration.ofMillis(1500));
        long start = System.nanoTime();
        // gone for its first half second, shorter than leave-after, then back
        Future<Waiter> flaky =
                waitForSeat(line, new Waiter("a"), new ArrayList<>(), () -> System.nanoTime() - start > 500_000_000L);
        Thread.sleep(2500);
        assertThat(flaky).isNotDone();
        freeOneSeat(line);
        assertThat(flaky.get(5, TimeUnit.SECONDS).seated).isTrue();
    }

    @Test
    void waitingPastMaxWaitFailsInTheOwnersWords() throws Exception {
        WaitingLine<Waiter> line = line(0, Duration.ofMillis(400), Duration.ofMinutes(1));
        Future<Waiter> late = waitForSeat(line, new Waiter("a"), new ArrayList<>(), () -> true);
        assertThatThrownBy(() -> late.get(5, TimeUnit.SECONDS))
                .cause()
                .isInstanceOf(FerryException.class)
                .hasMessage("Nothing became free within 400 milliseconds. Try again later.");
        assertThat(line.size()).isZero();
    }

    @Test
    void aFullLineRefusesOneMoreButLetsTheSameWaiterKeepItsPlace() {
        WaitingLine<Waiter> line = line(2, Duration.ofMinutes(1), Duration.ofMinutes(1));
        WaitingLine<Waiter>.Ticket a = line.join(new Waiter("a"));
        line.join(new Waiter("b"));
        assertThatThrownBy(() -> line.join(new Waiter("c")))
                .isInstanceOf(FerryException.class)
                .hasMessage("2 are already waiting in line, the most this Ferry lets wait. Try again in a few minutes.")
                .extracting(e -> ((FerryException) e).status())
                .isEqualTo(503);
        WaitingLine<Waiter>.Ticket again = line.join(new Waiter("a"), w -> w.name.equals("a"));
        assertThat(a.replaced()).isTrue();
        assertThat(a.position()).isZero();
        assertThat(again.position()).isEqualTo(1);
        assertThat(line.size()).isEqualTo(2);
        a.close(); // the replaced ticket leaving does not take its successor's place
        assertThat(again.position()).isEqualTo(1);
    }

    @Test
    void anInterruptedWaiterLeavesTheLineAndThoseBehindMoveUp() throws Exception {
        WaitingLine<Waiter> line = line();
        WaitingLine<Waiter>.Ticket first = line.join(new Waiter("a"));
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                line.await(first, t -> WaitingLine.Look.inLine(), s -> {}, () -> true);
                failure.complete(null);
            } catch (Throwable e) {
                failure.complete(e);
            }
        });
        waiter.start();
        List<String> said = new CopyOnWriteArrayList<>();
        Future<Waiter> second = waitForSeat(line, new Waiter("b"), said, () -> true);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> said.contains("b is 2nd"));
        waiter.interrupt();
        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(first.position()).isZero();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> said.contains("b is 1st"));
        freeOneSeat(line);
        assertThat(second.get(5, TimeUnit.SECONDS).seated).isTrue();
    }

    @Test
    void aFreedSeatGoesToTheFirstThatCanTakeItAndOthersKeepTheirPlaces() throws Exception {
        WaitingLine<Waiter> line = line();
        WaitingLine<Waiter>.Ticket picky = line.join(new Waiter("picky"));
        WaitingLine<Waiter>.Ticket second = line.join(new Waiter("second"));
        WaitingLine<Waiter>.Ticket third = line.join(new Waiter("third"));
        synchronized (monitor) {
            freeSeats = 1;
            line.serve(w -> {
                if (w.name.equals("picky") || freeSeats == 0) {
                    return false; // held back by something of its own (its repository's quota)
                }
                freeSeats--;
                w.seated = true;
                return true;
            });
        }
        assertThat(second.item().seated).isTrue();
        assertThat(third.item().seated).isFalse();
        assertThat(picky.position()).isEqualTo(1);
        assertThat(third.position()).isEqualTo(2);
    }

    @Test
    void aLineWithoutWaitingThreadsTellsEachTicketOnceWhenItMoves() {
        WaitingLine<Waiter> line = line();
        WaitingLine<Waiter>.Ticket a = line.join(new Waiter("a"));
        WaitingLine<Waiter>.Ticket b = line.join(new Waiter("b"));
        WaitingLine<Waiter>.Ticket c = line.join(new Waiter("c"));
        List<String> told = new ArrayList<>();
        line.told(b);
        line.told(c);
        c.close();
        line.announce((w, sentence) -> told.add(sentence));
        assertThat(told).as("a was never told; b and c did not move").containsExactly("a is 1st");
        a.close();
        line.announce((w, sentence) -> told.add(sentence));
        assertThat(told).containsExactly("a is 1st", "b is 1st");
    }
}
