package dev.ferry.workshop;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.ferry.Durations;
import dev.ferry.FerryException;
import dev.ferry.Ordinals;
import dev.ferry.WaitingLine;
import dev.ferry.build.Build;
import dev.ferry.capacity.Capacity;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.Membership;
import dev.ferry.session.Session;
import dev.ferry.session.SessionService;

/**
 * One workshop event: a repository pinned to a commit, a time window, seats reserved for its attendees, and a warm
 * pool of sessions already running when they click the link. Guarded by its own monitor; the
 * {@link WorkshopService} changes it, pages read it. Which sessions are its pool and whose are the others is not kept
 * here but read from the sessions' {@link Membership} — which the platform shares between portal replicas.
 */
public final class Workshop {

    public enum State {
        BUILDING,
        READY,
        FAILED,
        ENDING,
        ENDED
    }

    final String slug;
    final String name;
    final ResolvedRepo repo;
    final Instant start;
    final Instant end;
    final int seats;
    final int poolSize;
    final String publicBase;
    /** Seats attendees from one address may hold; 0: the operator's default. */
    final int seatsPerAddress;

    final Instant created = Instant.now();
    final Build build;
    State state = State.BUILDING;
    String failure;
    Capacity.Reservation reservation;
    /** Pool sessions this replica is starting. */
    int starting;

    private final SessionService sessions;
    /** Attendees waiting on this replica for a seat, first come first served; guarded by this workshop's monitor. */
    private final WaitingLine<Attendee> line;
    /** Attendees (digests) whose seat this replica is setting up now → their address. */
    final Map<String, String> claiming = new HashMap<>();
    /** Attendees (digests) given a seat by this replica → their address, for the bound per address. */
    final Map<String, String> seatAddresses = new HashMap<>();
    /** Sessions this replica handed to attendees who have not opened them yet → when they were handed over. */
    final Map<String, Instant> unclaimed = new LinkedHashMap<>();

    Instant endingAt;

    /** One attendee's page waiting in line: their cookie's digest and their address. */
    record Attendee(String attendee, String client) {}

    WaitingLine<Attendee> line() {
        return line;
    }

    /** The session this attendee (digest) has in this workshop. */
    Optional<Session> sessionOf(String attendee) {
        return members().stream()
                .filter(s -> attendee.equals(s.membership().attendee()))
                .findFirst();
    }

    /** Seats given to {@code client}'s attendees that they still have, seats being set up for them, places in line. */
    int seatsHeldFrom(String client) {
        Set<String> holders = new HashSet<>();
        for (Session s : members()) {
            String attendee = s.membership().attendee();
            if (attendee != null && client.equals(seatAddresses.get(attendee))) {
                holders.add(attendee);
            }
        }
        claiming.forEach((attendee, from) -> {
            if (client.equals(from)) {
                holders.add(attendee);
            }
        });
        for (Attendee waiting : line.items()) {
            if (client.equals(waiting.client())) {
                holders.add(waiting.attendee());
            }
        }
        return holders.size();
    }

    Workshop(WorkshopStore.Stored stored, Build build, SessionService sessions, WaitingLine.Limits lineLimits) {
        this.line = new WaitingLine<>(this, lineLimits, new LineWords());
        this.sessions = sessions;
        this.seatsPerAddress = stored.seatsPerAddress();
        this.slug = stored.slug();
        this.name = stored.name();
        this.repo = stored.repo();
        this.start = stored.start();
        this.end = stored.end();
        this.seats = stored.seats();
        this.poolSize = stored.poolSize();
        this.publicBase = stored.publicBase();
        this.build = build;
    }

    /** The workshop as the store keeps it, ending at {@code endingAt}. */
    WorkshopStore.Stored stored(Instant endingAt) {
        return new WorkshopStore.Stored(
                slug, name, repo, start, end, seats, poolSize, publicBase, endingAt, seatsPerAddress);
    }

    public String slug() {
        return slug;
    }

    public String name() {
        return name;
    }

    public ResolvedRepo repo() {
        return repo;
    }

    public Instant start() {
        return start;
    }

    public Instant end() {
        return end;
    }

    public int seats() {
        return seats;
    }

    public int poolSize() {
        return poolSize;
    }

    /** The workshop's own bound of seats per network address; 0: the operator's default. */
    public int seatsPerAddress() {
        return seatsPerAddress;
    }

    /** The build of its environment; null for a workshop this portal found only after it had ended. */
    public Build build() {
        return build;
    }

    public synchronized State state() {
        return state;
    }

    public synchronized String failure() {
        return failure;
    }

    public synchronized Instant endingAt() {
        return endingAt;
    }

    /** Seats taken now (pool sessions, starting sessions and attendees' sessions). */
    public synchronized int seatsTaken() {
        return reservation == null ? 0 : reservation.taken();
    }

    /** Its sessions: the pool and the attendees'. */
    List<Session> members() {
        return sessions.sessions().stream()
                .filter(s ->
                        s.membership() != null && slug.equals(s.membership().workshop()))
                .sorted(Comparator.comparing(Session::created))
                .toList();
    }

    /** Its warm pool, oldest first (handed out first). */
    List<Session> pool() {
        return members().stream().filter(Session::held).toList();
    }

    public int pooled() {
        return pool().size();
    }

    public int waiting() {
        return line.size();
    }

    /** Attendee (a digest of their cookie) → session id, for the instructor's page. */
    public Map<String, String> attendees() {
        Map<String, String> attendees = new LinkedHashMap<>();
        for (Session s : members()) {
            if (!s.held()) {
                attendees.put(s.membership().attendee(), s.id());
            }
        }
        return attendees;
    }

    /** The line's sentences for attendees. */
    private final class LineWords implements WaitingLine.Words<Attendee> {

        @Override
        public String position(int position, Attendee attendee) {
            return "All " + seats + " seats of this workshop are taken. You are " + Ordinals.of(position)
                    + " in line; a seat frees up when another attendee's session ends.\n";
        }

        @Override
        public FerryException full(int waiting) {
            return new FerryException(
                    503,
                    "All " + seats + " seats of this workshop are taken and " + waiting
                            + " attendees are already waiting, the most this Ferry lets wait. Tell your instructor, or try again "
                            + "in a few minutes.");
        }

        @Override
        public FerryException waitedTooLong(Duration maxWait) {
            return new FerryException(
                    503,
                    "No seat of this workshop became free within " + Durations.human(maxWait)
                            + ". Tell your instructor, or try again later.");
        }

        @Override
        public FerryException left() {
            return new FerryException(499, "The attendee left the line.");
        }
    }
}
