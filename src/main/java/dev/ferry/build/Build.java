package dev.ferry.build;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

import dev.ferry.repo.ResolvedRepo;

/** One build of one {@link ImageKey}, shared by every launch that needs it. */
public final class Build {

    public enum State {
        QUEUED,
        RUNNING,
        SUCCEEDED,
        FAILED
    }

    private final ImageKey key;
    private final ResolvedRepo repo;
    private final BuildLog log;
    private final CompletableFuture<Environment> result = new CompletableFuture<>();
    private final Instant created = Instant.now();
    private final boolean cached;
    private volatile State state;
    private volatile boolean cancelled;
    private volatile Instant started;
    private volatile Instant finished;

    Build(ImageKey key, ResolvedRepo repo, boolean cached, BuildProperties.Log logLimits) {
        this.key = key;
        this.log = new BuildLog(logLimits);
        this.repo = repo;
        this.cached = cached;
        this.state = State.QUEUED;
    }

    public ImageKey key() {
        return key;
    }

    public ResolvedRepo repo() {
        return repo;
    }

    public BuildLog log() {
        return log;
    }

    /** Completes with the environment, or exceptionally with the reason the build failed. */
    public CompletableFuture<Environment> result() {
        return result;
    }

    /** True when the environment already existed and nothing was built. */
    public boolean cached() {
        return cached;
    }

    public State state() {
        return state;
    }

    public Instant created() {
        return created;
    }

    void state(State newState) {
        state = newState;
        if (newState == State.RUNNING) {
            started = Instant.now();
        } else if (newState == State.SUCCEEDED || newState == State.FAILED) {
            finished = Instant.now();
        }
    }

    /** When the build left the queue, or null while it waits. */
    public Instant started() {
        return started;
    }

    /** When the build ended, or null while it runs. */
    public Instant finished() {
        return finished;
    }

    /** Whether the build was asked to stop (timeout, an operator, shutdown). */
    public boolean wasCancelled() {
        return cancelled;
    }

    boolean cancelled() {
        return cancelled;
    }

    void cancel() {
        cancelled = true;
    }
}
