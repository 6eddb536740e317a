package dev.ferry.launch;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ferry.repo.RepoSpec;

/**
 * One launch (resolve → build → start → ready), independent of the HTTP connection that asked for it: its events are
 * kept so that any number of streams can follow it, and a stream that reconnects with {@code Last-Event-ID} resumes
 * where it left off instead of starting a second launch.
 */
public final class Launch {

    private final String id;
    private final RepoSpec spec;
    private final Instant created = Instant.now();
    private final List<LaunchEvent> events = new ArrayList<>();
    private volatile Session session;
    private final java.util.concurrent.atomic.AtomicInteger watchers = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Instant finished;

    Launch(String id, RepoSpec spec) {
        this.id = id;
        this.spec = spec;
    }

    public String id() {
        return id;
    }

    public RepoSpec spec() {
        return spec;
    }

    public Instant created() {
        return created;
    }

    /** The session once the launch is ready. */
    public Session session() {
        return session;
    }

    void session(Session s) {
        session = s;
    }

    /** A stream (page, client) starts or stops following this launch. */
    public void watched(boolean starts) {
        watchers.addAndGet(starts ? 1 : -1);
    }

    /** Whether any stream follows this launch now. */
    boolean wanted() {
        return watchers.get() > 0;
    }

    public boolean isFinished() {
        return finished != null;
    }

    Instant finishedAt() {
        return finished;
    }

    synchronized void emit(String phase, String message, Map<String, Object> extra) {
        if (finished != null) {
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("phase", phase);
        if (message != null) {
            fields.put("message", message);
        }
        fields.putAll(extra);
        LaunchEvent event = new LaunchEvent(events.size() + 1, fields);
        events.add(event);
        if (event.terminal()) {
            finished = Instant.now();
        }
        notifyAll();
    }

    void emit(String phase, String message) {
        emit(phase, message, Map.of());
    }

    /**
     * The events after {@code afterSeq}; waits up to {@code waitMillis} for one when there are none yet.
     * Returns an empty list when none arrived in time (the caller sends a keepalive).
     */
    public synchronized List<LaunchEvent> eventsAfter(long afterSeq, long waitMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + waitMillis;
        while (events.size() <= afterSeq && finished == null) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return List.of();
            }
            wait(left);
        }
        int from = (int) Math.min(Math.max(afterSeq, 0), events.size());
        return List.copyOf(events.subList(from, events.size()));
    }

    /** The number of events emitted so far. */
    public synchronized long lastSeq() {
        return events.size();
    }
}
