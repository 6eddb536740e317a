package dev.ferry.session;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.build.Environment;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.RouteTable;
import dev.ferry.repo.ResolvedRepo;

/**
 * The running sessions: starts a notebook server through the platform's {@link SessionRuntime}, publishes its route, and
 * stops it (route first, so that no request reaches a dying server) when it is culled, stopped, or dies by itself.
 */
public final class SessionService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SessionService.class);

    private final SessionRuntime launcher;
    private final RouteTable routes;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public SessionService(SessionRuntime launcher, RouteTable routes) {
        this.launcher = launcher;
        this.routes = routes;
    }

    /** Starts a session and returns it once its server answers through the proxy's route. */
    public Session start(
            ResolvedRepo repo, Environment environment, Map<String, String> binderEnv, Consumer<String> progress) {
        return start(repo, environment, binderEnv, List.of(), progress);
    }

    /** Starts a session whose server accepts calls from the given page origins. */
    public Session start(
            ResolvedRepo repo,
            Environment environment,
            Map<String, String> binderEnv,
            List<String> allowedOrigins,
            Consumer<String> progress) {
        return start(repo, environment, binderEnv, allowedOrigins, progress, () -> {});
    }

    /** Starts a session; {@code onEnd} runs once when it ends (its seat is given back). */
    public Session start(
            ResolvedRepo repo,
            Environment environment,
            Map<String, String> binderEnv,
            List<String> allowedOrigins,
            Consumer<String> progress,
            Runnable onEnd) {
        return start(repo, environment, binderEnv, allowedOrigins, null, progress, onEnd);
    }

    /** Starts a session for a workshop ({@code membership}: its pool, or an attendee). */
    public Session start(
            ResolvedRepo repo,
            Environment environment,
            Map<String, String> binderEnv,
            List<String> allowedOrigins,
            Membership membership,
            Consumer<String> progress,
            Runnable onEnd) {
        if (closed) {
            throw new LaunchFailedException(503, "Ferry is shutting down; try again in a minute.");
        }
        SessionSpec spec = new SessionSpec(
                SecureIds.sessionId(),
                SecureIds.token(),
                repo,
                environment,
                binderEnv,
                List.copyOf(allowedOrigins),
                membership);
        RunningServer server = launcher.start(spec, progress);
        Route route = new Route(spec.id(), server.host(), server.port());
        Session session = new Session(spec, server, route, onEnd);
        sessions.put(spec.id(), session);
        routes.add(route);
        log.info("session {} started for {} at {}:{}", spec.id(), repo, server.host(), server.port());
        server.exited().thenAccept(reason -> end(spec.id(), reason));
        launcher.registered(spec);
        if (closed) {
            end(spec.id(), "Ferry is shutting down.");
            throw new LaunchFailedException(503, "Ferry is shutting down; try again in a minute.");
        }
        return session;
    }

    /**
     * Takes over a session that is already running — started before this portal restarted, or by another portal
     * replica sharing the platform. Returns the session, or the one already known under its id.
     */
    public Session adopt(
            SessionSpec spec, RunningServer server, Instant created, long lastActivityMillis, Runnable onEnd) {
        Route route = new Route(spec.id(), server.host(), server.port());
        route.touchAt(lastActivityMillis);
        Session session = new Session(spec, server, route, onEnd, created);
        Session known = sessions.putIfAbsent(spec.id(), session);
        if (known != null) {
            onEnd.run();
            return known;
        }
        routes.add(route);
        log.info("session {} adopted: {} at {}:{}", spec.id(), spec.repo(), server.host(), server.port());
        server.exited().thenAccept(reason -> end(spec.id(), reason));
        return session;
    }

    /**
     * Hands a pooled workshop session to {@code attendee}: true when this call got it, false when somebody else did
     * (here, or on another portal replica — the platform decides between replicas). While the platform decides, the
     * session belongs to nobody here; when another replica won, it stays so until the platform says whose it is.
     * Throws {@link LaunchFailedException} (the session back in the pool) when the platform could not decide.
     */
    public boolean handOver(Session session, String attendee) {
        Membership pooled = session.membership();
        if (pooled == null || !session.takeFromPool(pooled)) {
            return false;
        }
        Membership to = pooled.handedTo(attendee);
        boolean won;
        try {
            won = launcher.handOver(session.spec(), pooled, to);
        } catch (RuntimeException e) {
            session.returnToPool(pooled);
            throw e;
        }
        if (!won) {
            return false;
        }
        session.handedOver(to);
        return true;
    }

    public Optional<Session> find(String id) {
        return Optional.ofNullable(sessions.get(id));
    }

    public Collection<Session> sessions() {
        return List.copyOf(sessions.values());
    }

    /** Stops the session's server; later requests to its URL are told the reason. Returns false if it was not running. */
    public boolean stop(String id, String reason) {
        return end(id, reason);
    }

    private boolean end(String id, String reason) {
        Session session = sessions.remove(id);
        if (session == null) {
            return false;
        }
        routes.remove(id, reason, "/" + session.repo().spec().request());
        log.info("session {} ended: {}", id, reason);
        try {
            launcher.stop(session.spec(), session.server(), reason); // for a dead server: removes what it left behind
        } catch (RuntimeException e) {
            log.warn("session {}: stopping its server failed", id, e);
        } finally {
            session.ended();
        }
        return true;
    }

    /** Stops every session (Ferry is stopping). */
    @Override
    public void close() {
        closed = true;
        if (launcher.sessionsOutlivePortal()) {
            return; // they run on; the next portal adopts them
        }
        sessions.keySet().parallelStream().forEach(id -> stop(id, "Ferry was stopped."));
    }
}
