package dev.ferry.workshop;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ferry.build.Build;
import dev.ferry.launch.Capacity;
import dev.ferry.launch.Membership;
import dev.ferry.launch.Session;
import dev.ferry.launch.SessionService;
import dev.ferry.repo.ResolvedRepo;

/**
 * One workshop event: a repository pinned to a commit, a time window, seats reserved for its attendees, and a warm
 * pool of sessions already running when they click the link. Guarded by its own monitor; the
 * {@link WorkshopService} changes it, pages read it. Which sessions are its pool and whose are the others is not kept
 * here but read from the sessions' {@link Membership} — which the platform shares between portal replicas.
 */
public final class Workshop {

    public enum State { BUILDING, READY, FAILED, ENDING, ENDED }

    final String slug;
    final String name;
    final ResolvedRepo repo;
    final Instant start;
    final Instant end;
    final int seats;
    final int poolSize;
    final String publicBase;
    final Instant created = Instant.now();
    final Build build;
    State state = State.BUILDING;
    String failure;
    Capacity.Reservation reservation;
    /** Pool sessions this replica is starting. */
    int starting;
    private final SessionService sessions;
    /** Attendees waiting on this replica for a seat, first come first served (tickets). */
    private final Deque<Object> line = new ArrayDeque<>();
    Instant endingAt;

    Deque<Object> line() {
        return line;
    }

    Workshop(String slug, String name, ResolvedRepo repo, Instant start, Instant end, int seats, int poolSize,
             String publicBase, Build build, SessionService sessions) {
        this.sessions = sessions;
        this.slug = slug;
        this.name = name;
        this.repo = repo;
        this.start = start;
        this.end = end;
        this.seats = seats;
        this.poolSize = poolSize;
        this.publicBase = publicBase;
        this.build = build;
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
                .filter(s -> s.membership() != null && slug.equals(s.membership().workshop()))
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

    public synchronized int waiting() {
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
}
