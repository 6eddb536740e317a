package dev.ferry.launch;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.ferry.HeadAndTail;
import dev.ferry.build.BuildProperties;
import dev.ferry.build.Phase;
import dev.ferry.repo.RepoSpec;
import dev.ferry.session.Session;

/**
 * One launch (resolve → build → start → ready), independent of the HTTP connection that asked for it: its events are
 * kept so that any number of streams can follow it, and a stream that reconnects with {@code Last-Event-ID} resumes
 * where it left off instead of starting a second launch. What is kept is bounded ({@code ferry.build.log.*}, as a build's
 * log: most events are its lines): the first and the last events; a stream that asks for events of the middle gets one
 * event saying how many were not kept, then the last ones. Event numbers keep counting through the dropped middle.
 */
public final class Launch {

    private final String id;
    private final RepoSpec spec;
    private final Instant created = Instant.now();
    private final BuildProperties.Log limits;
    private final HeadAndTail<LaunchEvent> events;
    private volatile Session session;
    private final AtomicInteger watchers = new AtomicInteger();
    private volatile Instant finished;
    /** What a launch keeps once it has finished: its first and last events within these bounds. */
    static final int FINISHED_MAX_LINES = 400;

    static final long FINISHED_MAX_BYTES = 256 * 1024;
    /** The bounds its events are kept within now (they shrink when it finishes). */
    private int boundLines;

    private long boundBytes;

    Launch(String id, RepoSpec spec, BuildProperties.Log limits) {
        this.id = id;
        this.spec = spec;
        this.limits = limits;
        this.events = new HeadAndTail<>(limits.maxLines(), limits.maxBytes().toBytes(), Launch::size);
        this.boundLines = limits.maxLines();
        this.boundBytes = limits.maxBytes().toBytes();
    }

    /** What an event counts for: its message (the rest of an event is small and bounded). */
    private static long size(LaunchEvent event) {
        return event.fields().get("message") instanceof String message ? HeadAndTail.utf8Length(message) : 0;
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

    /** Adds the event as the next of this launch; after {@code ready} or {@code failed}, nothing is added. */
    synchronized void emit(LaunchEvent next) {
        if (finished != null) {
            return;
        }
        LaunchEvent event = next.numbered(events.added() + 1);
        events.add(event);
        if (event.terminal()) {
            finished = Instant.now();
            // Kept for a while for streams that resume or join late; many finished launches of noisy builds must not
            // add up to the heap (each could hold max-bytes of messages), so each keeps less from now on.
            events.shrink(
                    FINISHED_MAX_LINES,
                    Math.min(FINISHED_MAX_BYTES, limits.maxBytes().toBytes()));
            boundLines = FINISHED_MAX_LINES;
            boundBytes = Math.min(FINISHED_MAX_BYTES, limits.maxBytes().toBytes());
        }
        notifyAll();
    }

    void emit(Phase phase, String message) {
        emit(LaunchEvent.of(phase, message));
    }

    /**
     * The events after {@code afterSeq}; waits up to {@code waitMillis} for one when there are none yet.
     * Returns an empty list when none arrived in time (the caller sends a keepalive). When events after
     * {@code afterSeq} were not kept, one event saying how many takes their place; it carries the number of the last
     * of them, so that a stream resuming after it continues with the events that were kept.
     */
    public synchronized List<LaunchEvent> eventsAfter(long afterSeq, long waitMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + waitMillis;
        while (events.added() <= afterSeq && finished == null) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return List.of();
            }
            wait(left);
        }
        long from = Math.max(afterSeq, 0); // the number (from 0) of the first event wanted
        List<LaunchEvent> out = new ArrayList<>(events.headFrom(from));
        long tailStart = events.tailStart();
        long notKept = tailStart - Math.max(from, events.headCount());
        if (notKept > 0) {
            out.add(notShown(notKept, from <= events.headCount() ? events.droppedBytes() : -1, tailStart));
        }
        out.addAll(events.tailFrom(from));
        return out;
    }

    /** Stands for the {@code lines} events before number {@code lastSeq} + 1, which were not kept. */
    private LaunchEvent notShown(long lines, long bytes, long lastSeq) {
        List<LaunchEvent> head = events.headFrom(events.headCount() - 1L);
        Phase phase = head.isEmpty() ? Phase.BUILDING : head.get(0).phase(); // the phase in which the dropping began
        return LaunchEvent.of(
                        phase,
                        HeadAndTail.notShown(lines, bytes) + " ("
                                + (finished == null ? "a launch" : "a finished launch")
                                + " keeps its first and last events, up to " + boundLines + " lines and "
                                + HeadAndTail.bytes(boundBytes)
                                + ")\n")
                .numbered(lastSeq);
    }

    /** The number of the last event emitted so far. */
    public synchronized long lastSeq() {
        return events.added();
    }

    /** The bytes of messages this launch holds now (at most {@code ferry.build.log.max-bytes}). */
    public synchronized long keptBytes() {
        return events.keptBytes();
    }
}
