package dev.ferry.launch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import dev.ferry.Durations;

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
    private final QuotaProperties.Queue limits;
    private final Object lock = new Object();
    private final List<Ticket> line = new ArrayList<>();
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
        this.limits = properties.queue();
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
                        Seat beyond = unreserved.stream().filter(s -> reservation.owner.equals(s.owner)).findFirst().orElse(null);
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
                    releaseIntervalSeconds = releaseIntervalSeconds < 0 ? interval : 0.8 * releaseIntervalSeconds + 0.2 * interval;
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

    private final class Ticket {
        final String repoKey;
        final int repoQuota;
        final long enqueuedNanos = System.nanoTime();
        Seat seat;
        int announcedPosition;

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
        long lastWanted = System.nanoTime();
        long lastAnnounce = 0;
        synchronized (lock) {
            if (line.isEmpty() && fits(ticket)) {
                return take(ticket);
            }
            if (line.size() >= limits.maxLength()) {
                throw new LaunchFailedException(503, "This Ferry is full and " + line.size() + " launches are already "
                        + "waiting for a seat, the most it lets wait. Try again in a few minutes.");
            }
            line.add(ticket);
            admit();
        }
        try {
            while (true) {
                String message = null;
                synchronized (lock) {
                    if (ticket.seat != null) {
                        return ticket.seat;
                    }
                    int position = line.indexOf(ticket) + 1;
                    long now = System.nanoTime();
                    if (position != ticket.announcedPosition || now - lastAnnounce > 30_000_000_000L) {
                        ticket.announcedPosition = position;
                        lastAnnounce = now;
                        message = positionSentence(position, ticket);
                    }
                }
                if (message != null) {
                    waiting.accept(message);
                }
                long now = System.nanoTime();
                if (wanted.getAsBoolean()) {
                    lastWanted = now;
                } else if (now - lastWanted > limits.leaveAfter().toNanos()) {
                    throw new LaunchFailedException(499, "The launch left the line: nobody was waiting for it any more.");
                }
                if (now - ticket.enqueuedNanos > limits.maxWait().toNanos()) {
                    throw new LaunchFailedException(503, "No seat became free within " + Durations.human(limits.maxWait())
                            + ": this Ferry is full. Try again in " + Durations.human(limits.maxWait()) + " or so, when the "
                            + "sessions running now have ended.");
                }
                synchronized (lock) {
                    if (ticket.seat == null) {
                        lock.wait(500);
                    }
                }
            }
        } finally {
            synchronized (lock) {
                if (line.remove(ticket)) {
                    admit(); // a place ahead of others was freed
                }
            }
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
            if (System.nanoTime() - start > limits.maxWait().toNanos()) {
                throw new LaunchFailedException(503, "Ferry does not know yet which sessions are running (the cluster's API "
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
        boolean changed = false;
        for (var it = line.iterator(); it.hasNext(); ) {
            Ticket t = it.next();
            if (total > 0 && used + reservedFree >= total) {
                break;
            }
            if (t.seat == null && fits(t)) {
                t.seat = take(t);
                it.remove();
                changed = true;
            }
        }
        if (changed || !line.isEmpty()) {
            lock.notifyAll();
        }
    }

    private String positionSentence(int position, Ticket ticket) {
        boolean repoBound = ticket.repoQuota > 0 && perRepo.getOrDefault(ticket.repoKey, 0) >= ticket.repoQuota
                && (total <= 0 || used + reservedFree < total);
        String why = repoBound ? "This repository has as many sessions running as it may"
                : "This Ferry has as many sessions running as it can";
        String estimate;
        if (releaseIntervalSeconds < 0) {
            estimate = "a seat frees up when a running session ends";
        } else {
            long seconds = Math.round(position * releaseIntervalSeconds);
            estimate = seconds < 60 ? "less than a minute" : "about " + Durations.human(Duration.ofMinutes(Math.max(1, Math.round(seconds / 60.0))));
        }
        return why + ". You are " + dev.ferry.Ordinals.of(position) + " in line, " + estimate + ".\n";
    }
}
