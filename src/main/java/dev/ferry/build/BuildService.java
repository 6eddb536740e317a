package dev.ferry.build;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import dev.ferry.Durations;
import dev.ferry.FerryException;
import dev.ferry.Ordinals;
import dev.ferry.OutOfMemoryExit;
import dev.ferry.WaitingLine;
import dev.ferry.repo.ResolvedRepo;

/**
 * One build per {@link ImageKey}: a request for a key that is being built joins that build; a key built before is
 * answered from the builder's cache; otherwise a build is queued, at most {@code maxConcurrent} run at once, and
 * each is stopped at the timeout. A failed build is forgotten, so the next request builds again.
 */
public final class BuildService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BuildService.class);

    private final Builder builder;
    private final BuildProperties properties;
    private final Map<ImageKey, Build> inFlight = new ConcurrentHashMap<>();
    /** The last builds that ended, newest first, for the operator dashboard. */
    private final Deque<Build> recent = new ConcurrentLinkedDeque<>();

    private static final int RECENT_KEPT = 50;
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;
    private final Object slots = new Object();
    /**
     * Builds waiting for a slot, in order: their logs are told their position as the line moves. Nobody waits in it
     * with a thread, so it has no leave-after or max-wait: a build nobody watches any more is still wanted (by a
     * workshop, or the next launch of its commit), and the build timeout counts its time in line.
     */
    private final WaitingLine<Build> line = new WaitingLine<>(
            slots,
            WaitingLine.Limits.NONE,
            (position, build) -> "This build is now " + Ordinals.of(position) + " in line.");
    /** Tickets of the builds in line; guarded by {@code slots}. */
    private final Map<Build, WaitingLine<Build>.Ticket> tickets = new HashMap<>();
    /** Builds holding a slot: running, or about to; guarded by {@code slots}. */
    private final Set<Build> holdingSlots = new HashSet<>();

    private final AtomicLong started = new AtomicLong();
    private final List<Consumer<BuildOutcome>> listeners = new CopyOnWriteArrayList<>();

    /** How one build ended: for metrics. */
    public record BuildOutcome(ResolvedRepo repo, boolean succeeded, Duration duration) {}

    public BuildService(Builder builder, BuildProperties properties) {
        this.builder = builder;
        this.properties = properties;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(Math.max(1, properties.maxConcurrent()), r -> {
            Thread t = new Thread(r, "ferry-build-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-build-timer");
            t.setDaemon(true);
            return t;
        });
    }

    /** The build for this repository and commit: an existing one, a cached result, or a new one. */
    public Build request(ResolvedRepo repo) {
        ImageKey key = ImageKey.of(repo);
        Build running = inFlight.get(key);
        if (running != null) {
            return running;
        }
        synchronized (inFlight) {
            running = inFlight.get(key);
            if (running != null) {
                return running;
            }
            Optional<Environment> built = builder.findBuilt(key);
            if (built.isPresent()) {
                Build cached = new Build(key, repo, true, properties.log());
                cached.state(Build.State.SUCCEEDED);
                cached.result().complete(built.get());
                return cached;
            }
            Build build = new Build(key, repo, false, properties.log());
            inFlight.put(key, build);
            Future<?> work = enter(build);
            build.result().whenComplete((env, error) -> {
                inFlight.remove(key, build); // first: a request from now on finds the result, not this build
                leave(build);
                build.log().finished();
                recent.addFirst(build);
                while (recent.size() > RECENT_KEPT) {
                    recent.pollLast();
                }
            });
            timers.schedule(
                    () -> {
                        if (!build.result().isDone()) {
                            stop(build, work);
                        }
                    },
                    properties.timeout().toMillis() + 1,
                    TimeUnit.MILLISECONDS);
            return build;
        }
    }

    /**
     * Starts {@code build} when a slot is free and none waits before it, else puts it in line. Its work is submitted
     * at once either way: the workers, as many as the slots, take it up in order.
     */
    private Future<?> enter(Build build) {
        synchronized (slots) {
            if (line.isEmpty() && holdingSlots.size() < slotCount()) {
                holdingSlots.add(build);
                build.log().phase(Phase.WAITING, "Waiting for build to start...\n");
            } else {
                WaitingLine<Build>.Ticket ticket = line.join(build);
                tickets.put(build, ticket);
                line.told(ticket);
                build.log()
                        .phase(
                                Phase.WAITING,
                                "All " + properties.maxConcurrent() + " build slots are busy. This build is "
                                        + Ordinals.of(ticket.position()) + " in line.\n");
            }
            return workers.submit(() -> run(build));
        }
    }

    /**
     * {@code build} takes its slot (a worker took it up); the builds behind it move up. False when it was stopped while
     * in line.
     */
    private boolean start(Build build) {
        synchronized (slots) {
            WaitingLine<Build>.Ticket ticket = tickets.remove(build);
            if (ticket == null) {
                return holdingSlots.contains(build);
            }
            holdingSlots.add(build);
            ticket.close();
            line.announce((behind, sentence) -> behind.log().line(sentence));
            return true;
        }
    }

    /** {@code build} ended (or was stopped while in line): it gives back its slot or its place. */
    private void leave(Build build) {
        synchronized (slots) {
            WaitingLine<Build>.Ticket ticket = tickets.remove(build);
            if (ticket != null) {
                ticket.close();
            }
            holdingSlots.remove(build);
            line.announce((behind, sentence) -> behind.log().line(sentence));
        }
    }

    /** Stops a build past its timeout: one in line fails at once, a running one is interrupted. */
    private void stop(Build build, Future<?> work) {
        build.cancel();
        if (!failInLine(build)) {
            work.cancel(true);
        }
    }

    /**
     * Fails a stopped build that is still in line, at once, instead of letting its launches wait for a slot it would
     * not use; false when it is not in line (running, or ended).
     */
    private boolean failInLine(Build build) {
        synchronized (slots) {
            WaitingLine<Build>.Ticket ticket = tickets.remove(build);
            if (ticket == null) {
                return false;
            }
            ticket.close();
            line.announce((behind, sentence) -> behind.log().line(sentence));
        }
        build.state(Build.State.FAILED);
        build.result().completeExceptionally(failure(build, null));
        return true;
    }

    private int slotCount() {
        return Math.max(1, properties.maxConcurrent());
    }

    /** How much of a build's output is kept: by each build's log, and by each launch that relays it. */
    public BuildProperties.Log logLimits() {
        return properties.log();
    }

    /** Called after every build that ran (not for cache hits). */
    public void onFinished(Consumer<BuildOutcome> listener) {
        listeners.add(listener);
    }

    private void report(Build build, boolean succeeded, long t0) {
        BuildOutcome outcome = new BuildOutcome(build.repo(), succeeded, Duration.ofNanos(System.nanoTime() - t0));
        for (var listener : listeners) {
            try {
                listener.accept(outcome);
            } catch (RuntimeException e) {
                log.warn("build listener failed", e);
            }
        }
    }

    /** Builds queued or running, then the last ones that ended, newest first. */
    public List<Build> builds() {
        List<Build> all = new ArrayList<>(inFlight.values());
        all.sort(Comparator.comparing(Build::created).reversed());
        all.addAll(recent);
        return all;
    }

    /** Stops a queued or running build (an operator's action); returns false when there is no such build. */
    public boolean cancel(String keyId) {
        for (Build build : inFlight.values()) {
            if (build.key().id().equals(keyId)) {
                build.cancel();
                failInLine(build);
                log.info("build {} cancelled by an operator", keyId);
                return true;
            }
        }
        return false;
    }

    /** Builds started since this service started (cache hits and joined builds not counted). */
    public long buildsStarted() {
        return started.get();
    }

    /** Builds currently queued or running. */
    public int inProgress() {
        return inFlight.size();
    }

    private void run(Build build) {
        MDC.put("build", build.key().id());
        try {
            runBuild(build);
        } finally {
            MDC.remove("build");
        }
    }

    private void runBuild(Build build) {
        if (!start(build)) {
            return; // stopped while in line: it failed there
        }
        started.incrementAndGet();
        build.state(Build.State.RUNNING);
        Instant deadline = build.created().plus(properties.timeout());
        log.info("build {} started for {}", build.key(), build.repo());
        long t0 = System.nanoTime();
        try {
            Environment env = builder.build(new BuildContext() {
                @Override
                public ResolvedRepo repo() {
                    return build.repo();
                }

                @Override
                public ImageKey key() {
                    return build.key();
                }

                @Override
                public BuildLog log() {
                    return build.log();
                }

                @Override
                public boolean cancelled() {
                    return build.cancelled() || Thread.currentThread().isInterrupted();
                }

                @Override
                public Instant deadline() {
                    return deadline;
                }
            });
            build.state(Build.State.SUCCEEDED);
            log.info("build {} succeeded in {} ms", build.key(), (System.nanoTime() - t0) / 1_000_000);
            report(build, true, t0);
            build.result().complete(env);
        } catch (Throwable e) {
            OutOfMemoryExit.reportIfOutOfMemory(e); // a build's error stays in its future: the handler would not see it
            build.state(Build.State.FAILED);
            FerryException failure = failure(build, e);
            log.info(
                    "build {} failed after {} ms: {}",
                    build.key(),
                    (System.nanoTime() - t0) / 1_000_000,
                    failure.getMessage());
            if (!(e instanceof FerryException)) {
                log.warn("build {} failed unexpectedly", build.key(), e);
            }
            report(build, false, t0);
            build.result().completeExceptionally(failure);
        }
    }

    private FerryException failure(Build build, Throwable e) {
        if (build.cancelled() && build.created().plus(properties.timeout()).isAfter(Instant.now())) {
            return new BuildFailedException(
                    503,
                    "The build was stopped by an operator or because Ferry is shutting down. "
                            + "Launch again to start a new build.");
        }
        if (build.cancelled()) {
            return new BuildFailedException(
                    504,
                    "The build took longer than the limit of " + Durations.human(properties.timeout())
                            + " and was stopped.");
        }
        if (e instanceof FerryException fe) {
            return fe;
        }
        return new BuildFailedException(
                500,
                "The build failed because of an error in Ferry (" + e.getClass().getSimpleName()
                        + "). Try again; if it keeps failing, tell the operator.");
    }

    /** Stops every build: running builds are cancelled and their processes stopped. */
    @Override
    public void close() {
        inFlight.values().forEach(Build::cancel);
        workers.shutdownNow();
        timers.shutdownNow();
        try {
            workers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
