package dev.ferry.launch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.Ordered;

import dev.ferry.build.BuildService;
import dev.ferry.session.SessionService;

/**
 * What Ferry does first when it is told to stop (SIGTERM): it stops accepting launches, ends every launch still under
 * way — building, waiting in line, starting a server — with a {@code failed} event that says Ferry is restarting, stops
 * builds and their processes, and stops sessions that do not outlive the portal. It runs when the context closes,
 * before any lifecycle bean stops — the web server's graceful shutdown included — so the event streams of waiting
 * clients carry that sentence and end, instead of holding the graceful shutdown open until its timeout and then being
 * cut. (Not a {@code SmartLifecycle}: lifecycle beans are also stopped when a context is merely paused — Spring's test
 * context cache pauses contexts it keeps — and a drain cannot be undone.)
 */
final class ShutdownDrain implements ApplicationListener<ContextClosedEvent>, Ordered {

    static final String RESTARTING = "Ferry is restarting; launch again in a minute.";
    private static final Logger log = LoggerFactory.getLogger(ShutdownDrain.class);

    private final LaunchService launches;
    private final BuildService builds;
    private final SessionService sessions;

    ShutdownDrain(LaunchService launches, BuildService builds, SessionService sessions) {
        this.launches = launches;
        this.builds = builds;
        this.sessions = sessions;
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        long t0 = System.nanoTime();
        int ended = launches.drain(RESTARTING);
        builds.close();
        sessions.close();
        log.info(
                "Ferry is stopping: {} launches under way were told to launch again, builds and sessions stopped in {} ms",
                ended,
                (System.nanoTime() - t0) / 1_000_000);
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after platform listeners that let work outlive the portal
    }
}
