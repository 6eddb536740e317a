package dev.ferry.launch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.ferry.build.BuildService;

/**
 * What Ferry does first when it is told to stop (SIGTERM): it stops accepting launches, ends every launch still under
 * way — building, waiting in line, starting a server — with a {@code failed} event that says Ferry is restarting, stops
 * builds and their processes, and stops sessions that do not outlive the portal. It runs before the web server's
 * graceful shutdown (a higher phase stops first), so the event streams of waiting clients carry that sentence and end,
 * instead of holding the graceful shutdown open until its timeout and then being cut.
 */
final class ShutdownDrain implements SmartLifecycle {

    static final String RESTARTING = "Ferry is restarting; launch again in a minute.";
    private static final Logger log = LoggerFactory.getLogger(ShutdownDrain.class);

    private final LaunchService launches;
    private final BuildService builds;
    private final SessionService sessions;
    private volatile boolean running;

    ShutdownDrain(LaunchService launches, BuildService builds, SessionService sessions) {
        this.launches = launches;
        this.builds = builds;
        this.sessions = sessions;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        long t0 = System.nanoTime();
        int ended = launches.drain(RESTARTING);
        builds.close();
        sessions.close();
        log.info("Ferry is stopping: {} launches under way were told to launch again, builds and sessions stopped in {} ms",
                ended, (System.nanoTime() - t0) / 1_000_000);
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return DEFAULT_PHASE; // above the web server's graceful shutdown (DEFAULT_PHASE - 1024): stops before it
    }
}
