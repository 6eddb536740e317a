package dev.ferry.launch;

import java.time.Instant;

import dev.ferry.proxy.Route;
import dev.ferry.repo.ResolvedRepo;

/** A running notebook server for one visitor, reachable through the proxy at {@code /user/<id>/}. */
public final class Session {

    private final SessionSpec spec;
    private final RunningServer server;
    private final Route route;
    private final Instant created;
    private final Runnable onEnd;
    private volatile boolean held;

    Session(SessionSpec spec, RunningServer server, Route route, Runnable onEnd) {
        this(spec, server, route, onEnd, Instant.now());
    }

    Session(SessionSpec spec, RunningServer server, Route route, Runnable onEnd, Instant created) {
        this.created = created;
        this.spec = spec;
        this.server = server;
        this.route = route;
        this.onEnd = onEnd;
    }

    void ended() {
        onEnd.run();
    }

    /** Kept ready in a workshop's warm pool: not culled while nobody has it. */
    public void hold() {
        held = true;
    }

    /** Handed to an attendee: its idle time starts now. */
    public void assign() {
        held = false;
        route.touch();
    }

    /** Activity seen elsewhere (another portal replica) at {@code millis}; never moves the idle clock back. */
    public void activitySeenAt(long millis) {
        route.touchAt(millis);
    }

    public boolean held() {
        return held;
    }

    public String id() {
        return spec.id();
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
