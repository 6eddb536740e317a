package dev.ferry.session;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import dev.ferry.proxy.Route;
import dev.ferry.repo.ResolvedRepo;

/** A running notebook server for one visitor, reachable through the proxy at {@code /user/<id>/}. */
public final class Session {

    private final SessionSpec spec;
    private final RunningServer server;
    private final Route route;
    private final Instant created;
    private final Runnable onEnd;
    private final AtomicReference<Membership> membership;

    Session(SessionSpec spec, RunningServer server, Route route, Runnable onEnd) {
        this(spec, server, route, onEnd, Instant.now());
    }

    Session(SessionSpec spec, RunningServer server, Route route, Runnable onEnd, Instant created) {
        this.created = created;
        this.spec = spec;
        this.server = server;
        this.route = route;
        this.onEnd = onEnd;
        this.membership = new AtomicReference<>(spec.membership());
    }

    void ended() {
        onEnd.run();
    }

    /** The workshop this session belongs to, and to whom in it; null for a session of nobody's workshop. */
    public Membership membership() {
        return membership.get();
    }

    /**
     * Takes this pooled session out of the pool for a hand-over (its owner is unknown until the platform agrees);
     * false when it is not pooled any more. Out of the pool it may be culled, so its idle time starts now.
     */
    boolean takeFromPool(Membership pooled) {
        if (!pooled.pooled() || !membership.compareAndSet(pooled, pooled.handedTo(""))) {
            return false;
        }
        route.touch();
        return true;
    }

    /** The platform could not decide (it did not answer): the session goes back to the pool. */
    void returnToPool(Membership pooled) {
        membership.compareAndSet(pooled.handedTo(""), pooled);
    }

    /** The platform agreed: the session is the attendee's, and its idle time starts now. */
    void handedOver(Membership to) {
        membership.set(to);
        route.touch();
    }

    /**
     * The membership another portal replica recorded for this session. A hand-over seen here counts as activity, so
     * that a pool session that waited long is not culled as idle before the other replica's activity arrives.
     */
    public void membershipSeen(Membership seen) {
        Membership before = membership.getAndSet(seen);
        if (seen != null && !seen.pooled() && !seen.equals(before)) {
            route.touch();
        }
    }

    /** Activity seen elsewhere (another portal replica) at {@code millis}; never moves the idle clock back. */
    public void activitySeenAt(long millis) {
        route.touchAt(millis);
    }

    /** Kept ready in a workshop's warm pool: not culled while nobody has it (it ends with its workshop). */
    public boolean held() {
        Membership m = membership.get();
        return m != null && m.pooled();
    }

    public String id() {
        return spec.id();
    }

    /** The proxy's route to this session's server. */
    public Route route() {
        return route;
    }

    public String token() {
        return spec.token();
    }

    public String baseUrl() {
        return spec.baseUrl();
    }

    public ResolvedRepo repo() {
        return spec.repo();
    }

    public SessionSpec spec() {
        return spec;
    }

    RunningServer server() {
        return server;
    }

    public Instant created() {
        return created;
    }

    /** The last time the proxy carried bytes for this session (its creation counts). */
    public Instant lastActivity() {
        return Instant.ofEpochMilli(route.lastActivityMillis());
    }

    @Override
    public String toString() {
        return "session " + id();
    }
}
