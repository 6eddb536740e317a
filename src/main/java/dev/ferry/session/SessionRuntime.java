package dev.ferry.session;

import java.util.function.Consumer;

/** The platform's way of running a notebook server for a session. */
public interface SessionRuntime {

    /**
     * Starts the server and returns when it answers, reporting progress lines on the way. Throws
     * {@link LaunchFailedException} with a sentence (and the server's last log lines) when it does not start in time,
     * leaving nothing behind.
     */
    RunningServer start(SessionSpec spec, Consumer<String> progress);

    /** Stops the server and everything it started, and removes its files. Idempotent. */
    void stop(SessionSpec spec, RunningServer server);

    /** Stops the server, saying why (platforms shared by several portals tell the others). */
    default void stop(SessionSpec spec, RunningServer server, String reason) {
        stop(spec, server);
    }

    /**
     * Whether sessions keep running when this portal stops (a platform shared by portal replicas: another replica, or
     * this one restarted, adopts them). Then stopping the portal leaves them be.
     */
    default boolean sessionsOutlivePortal() {
        return false;
    }

    /**
     * Records on the platform that a pooled session ({@code from}) now belongs to an attendee ({@code to}); false when
     * another portal replica handed it to somebody first. Throws {@link LaunchFailedException} when the platform
     * cannot decide now. Platforms without other replicas have nothing to record.
     */
    default boolean handOver(SessionSpec spec, Membership from, Membership to) {
        return true;
    }

    /** Called once the session service has registered the started session (its route is published). */
    default void registered(SessionSpec spec) {}
}
