package dev.ferry.capacity;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import dev.ferry.Durations;
import dev.ferry.Ordinals;
import dev.ferry.WaitingLine;
import dev.ferry.WaitingLine.Look;
import dev.ferry.session.LaunchFailedException;

/**
 * Seats for sessions: a total quota and a quota per repository, and a first-come-first-served line for launches
 * that find them full. A launch waits with its position ("You are 3rd in line, about 2 minutes") updated as the line
 * moves, instead of being refused; it leaves the line when its client is gone, when the line is longer than allowed,
 * or when it waited too long — each with a sentence that says so. A seat is given back when its session ends.
 * <p>
 * The line is served in order among the launches that can run: one held back only by its repository's quota does
 * not hold back a launch of another repository behind it (it keeps its place).
 */
public final class Capacity {

    private final int total;
    private final QuotaProperties.Queue queue;
    private final Object lock = new Object();
    /** Launches waiting for a seat, guarded by {@code lock} like the seats. */
    private final WaitingLine<Ticket> line;

    private final Map<String, Integer> perRepo = new HashMap<>();
    /** Open reservations by owner (a workshop's slug). */
    private final Map<String, Reservation> reservations = new HashMap<>();
    /** Seats of an owner that had no open reservation with room when they were taken (adopted sessions). */
    private final List<Seat> unreserved = new ArrayList<>();

    private int used;
    /** Seats reserved for workshops and not taken by them: general launches cannot use them. */
    private int reservedFree;

    private long lastReleaseNanos;
    private double releaseIntervalSeconds = -1;

    /** Whether every running session is counted yet (a platform still reading them from its cluster counts too few). */
    private volatile BooleanSupplier counted = () -> true;

    public Capacity(QuotaProperties properties) {
        this.total = properties.total();
        this.queue = properties.queue();
        this.line = new WaitingLine<>(lock, queue.limits(), new LineWords());
    }

    /** A seat held by a starting or running session; give it back exactly once. */
    public final class Seat {
        private final String repoKey;
        private final String owner;
        private Reservation reservation;
        private boolean released;

        private Seat(String repoKey, String owner, Reservation reservation) {
            this.repoKey = repoKey;
            this.owner = owner;
            this.reservation = reservation;
        }

        public void release() {
            synchronized (lock) {
                if (released) {
                    return;
                }
                released = true;
                used--;
                unreserved.remove(this);
                perRepo.merge(repoKey, -1, (a, b) -> a + b == 0 ? null : a + b);
                if (reservation != null) {
                    reservation.taken--;
                    if (!reservation.closed) {
                        Seat beyond = unreserved.stream()
                                .filter(s -> reservation.owner.equals(s.owner))
                                .findFirst()
                                .orElse(null);
                        if (beyond != null) { // a session of the owner that did not fit takes the freed reserved seat
                            unreserved.remove(beyond);
                            beyond.reservation = reservation;
                            reservation.taken++;
                        } else {
                            reservedFree++; // back to the workshop, not to general launches
                        }
                    }
                }
                long now = System.nanoTime();
                if (lastReleaseNanos != 0) {
                    double interval = (now - lastReleaseNanos) / 1e9;
                    releaseIntervalSeconds =
                            releaseIntervalSeconds < 0 ? interval : 0.8 * releaseIntervalSeconds + 0.2 * interval;
                }
                lastReleaseNanos = now;
                admit();
            }
        }
    }

    /**
     * Seats set aside for a workshop: general launches cannot take them, and the workshop cannot take more than them.
     * Reserving more than is free now does not stop running sessions; it holds back general launches until enough
     * sessions end.
     */
    public final class Reservation {
        private final String owner;
        private final int seats;
        private int taken;
        private boolean closed;

        private Reservation(String owner, int seats) {
            this.owner = owner;
            this.seats = seats;
        }

        /** A reserved seat for a session of the workshop, or null when all its seats are taken. */
        public Seat take(String repoKey) {
            synchronized (lock) {
                if (closed || taken >= seats) {
                    return null;
                }
                taken++;
                reservedFree--;
                used++;
                perRepo.merge(repoKey, 1, Integer::sum);
                return new Seat(repoKey, owner, this);
            }
        }

        public int seats() {
            return seats;
        }

        public int taken() {
            synchronized (lock) {
                return taken;
            }
        }

        /** Gives the seats not taken back to general launches; taken ones come back as their sessions end. */
        public void close() {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                closed = true;
                reservations.remove(owner, this);
                reservedFree -= seats - taken;
                admit();
            }
        }
    }

    /**
     * Sets seats aside for {@code owner} (a workshop). Seats its sessions already hold — sessions another portal
     * replica started for it, adopted before this reservation — count as taken from it.
     */
    public Reservation reserve(String owner, int seats) {
        synchronized (lock) {
            Reservation r = new Reservation(owner, seats);
            for (var it = unreserved.iterator(); it.hasNext() && r.taken < seats; ) {
                Seat seat = it.next();
                if (owner.equals(seat.owner)) {
                    seat.reservation = r;
                    r.taken++;
                    it.remove();
                }
            }
            reservedFree += seats - r.taken;
            Reservation before = reservations.put(owner, r);
            if (before != null) {
                before.close();
            }
            return r;
        }
    }

    /** Seats set aside for workshops and not taken. */
    public int reserved() {
        synchronized (lock) {
            return reservedFree;
        }
    }

    /** A launch waiting for a seat; {@code seat} is set when the line serves it. */
    private static final class Ticket {
        final String repoKey;
        final int repoQuota;
        Seat seat;

        Ticket(String repoKey, int repoQuota) {
            this.repoKey = repoKey;
            this.repoQuota = repoQuota;
        }
    }

    /**
     * A seat for a session of {@code repoKey}, at once when there is one, else after waiting in line. While waiting,
     * {@code waiting} receives a sentence whenever the position changes (and every 30 seconds with a fresh estimate);
     * {@code wanted} is asked whether anybody still waits for this launch.
     */
    public Seat acquire(String repoKey, int repoQuota, Consumer<String> waiting, BooleanSupplier wanted)
            throws InterruptedException {
        awaitCounted(waiting);
        Ticket ticket = new Ticket(repoKey, repoQuota);
        WaitingLine<Ticket>.Ticket place;
        synchronized (lock) {
            if (line.isEmpty() && fits(ticket)) {
                return take(ticket);
            }
            place = line.join(ticket);
            admit();
        }
        try (place) {
            return line.await(
                    place, p -> p.item().seat == null ? Look.inLine() : Look.served(p.item().seat), waiting, wanted);
        } catch (InterruptedException | RuntimeException e) {
            synchronized (lock) {
                if (ticket.seat != null) { // served while it was being interrupted
                    ticket.seat.release();
                }
            }
            throw e;
        }
    }

    /**
     * Seats are given out only once {@code counted} says every running session has been counted: until then the count
     * is too low and would let launches beyond the quota.
     */
    public void countedWhen(BooleanSupplier counted) {
        this.counted = counted;
    }

    private void awaitCounted(Consumer<String> waiting) throws InterruptedException {
        if (counted.getAsBoolean()) {
            return;
        }
        waiting.accept("Ferry is still counting the sessions running; the launch goes on in a moment.\n");
        long start = System.nanoTime();
        while (!counted.getAsBoolean()) {
            if (System.nanoTime() - start > queue.maxWait().toNanos()) {
                throw new LaunchFailedException(
                        503,
                        "Ferry does not know yet which sessions are running (the cluster's API "
                                + "server has not answered), so it cannot tell whether there is room. Try again in a minute.");
            }
            Thread.sleep(200);
        }
    }

    /**
     * A seat for a session that is already running (adopted from the platform after a restart, or started by another
     * portal replica): taken at once, even beyond the quotas, because the session exists whether it fits or not.
     */
    public Seat occupy(String repoKey) {
        return occupy(repoKey, null);
    }

    /**
     * A seat for a running session of {@code owner} (a workshop; null for none): from the owner's reservation while it
     * has room, else beyond it — and then moved into the reservation the owner makes later.
     */
    public Seat occupy(String repoKey, String owner) {
        synchronized (lock) {
            Reservation r = owner == null ? null : reservations.get(owner);
            Seat seat = r == null ? null : r.take(repoKey);
            if (seat != null) {
                return seat;
            }
            seat = take(new Ticket(repoKey, 0), owner);
            if (owner != null) {
                unreserved.add(seat);
            }
            return seat;
        }
    }

    /** Sessions holding seats now. */
    public int used() {
        synchronized (lock) {
            return used;
        }
    }

    /** Launches waiting in line now. */
    public int waiting() {
        synchronized (lock) {
            return line.size();
        }
    }

    public int total() {
        return total;
    }

    private boolean fits(Ticket t) {
        boolean totalFree = total <= 0 || used + reservedFree < total;
        boolean repoFree = t.repoQuota <= 0 || perRepo.getOrDefault(t.repoKey, 0) < t.repoQuota;
        return totalFree && repoFree;
    }

    private Seat take(Ticket t) {
        return take(t, null);
    }

    private Seat take(Ticket t, String owner) {
        used++;
        perRepo.merge(t.repoKey, 1, Integer::sum);
        return new Seat(t.repoKey, owner, null);
    }

    /** Gives free seats to the first tickets in line that fit. Called with the lock held. */
    private void admit() {
        line.serve(t -> {
            if (!fits(t)) {
                return false;
            }
            t.seat = take(t);
            return true;
        });
    }

    /** The line's sentences for launches. */
    private final class LineWords implements WaitingLine.Words<Ticket> {

        @Override
        public String position(int position, Ticket ticket) {
            boolean repoBound = ticket.repoQuota > 0
                    && perRepo.getOrDefault(ticket.repoKey, 0) >= ticket.repoQuota
                    && (total <= 0 || used + reservedFree < total);
            String why = repoBound
                    ? "This repository has as many sessions running as it may"
                    : "This Ferry has as many sessions running as it can";
            return why + ". You are " + Ordinals.of(position) + " in line, " + estimate(position) + ".\n";
        }

        @Override
        public LaunchFailedException full(int waiting) {
            return new LaunchFailedException(
                    503,
                    "This Ferry is full and " + waiting + " launches are already "
                            + "waiting for a seat, the most it lets wait. Try again in a few minutes.");
        }

        @Override
        public LaunchFailedException waitedTooLong(Duration maxWait) {
            return new LaunchFailedException(
                    503,
                    "No seat became free within " + Durations.human(maxWait)
                            + ": this Ferry is full. Try again in " + Durations.human(maxWait) + " or so, when the "
                            + "sessions running now have ended.");
        }

        @Override
        public LaunchFailedException left() {
            return new LaunchFailedException(499, "The launch left the line: nobody was waiting for it any more.");
        }
    }

    /** How long until a seat for the launch at {@code position}, from how fast seats were given back lately. */
    private String estimate(int position) {
        if (releaseIntervalSeconds < 0) {
            return "a seat frees up when a running session ends";
        }
        long seconds = Math.round(position * releaseIntervalSeconds);
        return seconds < 60
                ? "less than a minute"
                : "about " + Durations.human(Duration.ofMinutes(Math.max(1, Math.round(seconds / 60.0))));
    }
}
