package dev.ferry.cull;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.Durations;
import dev.ferry.session.Session;
import dev.ferry.session.SessionService;

/** Stops sessions left idle longer than the idle timeout, and sessions older than the maximum age. */
public final class Culler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Culler.class);

    private final SessionService sessions;
    private final CullProperties properties;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ferry-culler");
        t.setDaemon(true);
        return t;
    });

    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

    /** Called with {@code idle} or {@code max_age} for every session culled (metrics). */
    public void onCull(Consumer<String> listener) {
        listeners.add(listener);
    }

    private final Leadership leadership;

    public Culler(SessionService sessions, CullProperties properties) {
        this(sessions, properties, Leadership.ALWAYS);
    }

    /** A culler that only culls while {@code leadership} says this portal is the one that culls. */
    public Culler(SessionService sessions, CullProperties properties, Leadership leadership) {
        this.sessions = sessions;
        this.properties = properties;
        this.leadership = leadership;
    }

    public void start() {
        long every = Math.max(100, properties.interval().toMillis());
        timer.scheduleWithFixedDelay(this::cullSafely, every, every, TimeUnit.MILLISECONDS);
    }

    private void cullSafely() {
        if (!leadership.isLeader()) {
            return; // another portal replica culls
        }
        try {
            cull(Instant.now(), leadership);
        } catch (RuntimeException e) {
            log.error("culling failed", e);
        }
    }

    /** Stops every session that is idle too long or too old at {@code now}; returns how many were stopped. */
    public int cullOnce(Instant now) {
        return cull(now, Leadership.ALWAYS);
    }

    /** A round that stops as soon as {@code leadership} lapses (the scheduled rounds; another replica takes over). */
    private int cull(Instant now, Leadership leadership) {
        int culled = 0;
        for (Session s : sessions.sessions()) {
            if (s.held()) {
                continue; // a workshop's warm pool: ended with its workshop
            }
            Duration idle = Duration.between(s.lastActivity(), now);
            Duration age = Duration.between(s.created(), now);
            String reason = null;
            String kind = null;
            if (!properties.idleTimeout().isZero() && idle.compareTo(properties.idleTimeout()) >= 0) {
                reason = "it was idle for more than " + Durations.human(properties.idleTimeout()) + ".";
                kind = "idle";
            } else if (!properties.maxAge().isZero() && age.compareTo(properties.maxAge()) >= 0) {
                reason = "it reached the maximum session age of " + Durations.human(properties.maxAge()) + ".";
                kind = "max_age";
            }
            if (reason != null && !leadership.isLeader()) {
                break; // leadership lapsed mid-round: the new leader decides from here
            }
            if (reason != null && sessions.stop(s.id(), reason)) {
                log.info("culled session {}: {}", s.id(), reason);
                culled++;
                for (var listener : listeners) {
                    listener.accept(kind);
                }
            }
        }
        return culled;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
