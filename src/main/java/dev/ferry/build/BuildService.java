package dev.ferry.build;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.FerryException;
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
    private final java.util.Deque<Build> recent = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private static final int RECENT_KEPT = 50;
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;
    private final AtomicInteger queued = new AtomicInteger();
    /** Builds waiting for a slot, in order: their logs are told their position as the line moves. */
    private final java.util.List<Build> line = new java.util.ArrayList<>();
    /** Builds running or about to (not in the line). */
    private int runningBuilds;
    private final AtomicLong started = new AtomicLong();
    private final java.util.List<java.util.function.Consumer<BuildOutcome>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** How one build ended: for metrics. */
    public record BuildOutcome(ResolvedRepo repo, boolean succeeded, java.time.Duration duration) {
    }

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
            queued.incrementAndGet();
            synchronized (line) {
                if (runningBuilds < Math.max(1, properties.maxConcurrent())) {
                    runningBuilds++;
                    build.log().phase(Phase.WAITING, "Waiting for build to start...\n");
                } else {
                    line.add(build);
                    build.log().phase(Phase.WAITING, "All " + properties.maxConcurrent() + " build slots are busy. This build is "
                            + dev.ferry.Ordinals.of(line.size()) + " in line.\n");
                }
            }
            Future<?> work = workers.submit(() -> run(build));
            build.result().whenComplete((env, error) -> {
                synchronized (line) {
                    if (!line.remove(build)) {
                        runningBuilds--;
                    }
                }
                inFlight.remove(key, build);
                build.log().finished();
                recent.addFirst(build);
                while (recent.size() > RECENT_KEPT) {
                    recent.pollLast();
                }
            });
            timers.schedule(() -> {
                if (!build.result().isDone()) {
                    build.cancel();
                    work.cancel(true);
                }
            }, properties.timeout().toMillis() + 1, TimeUnit.MILLISECONDS);
            return build;
        }
    }

    /** How much of a build's output is kept: by each build's log, and by each launch that relays it. */
    public BuildProperties.Log logLimits() {
        return properties.log();
    }

    /** Called after every build that ran (not for cache hits). */
    public void onFinished(java.util.function.Consumer<BuildOutcome> listener) {
        listeners.add(listener);
    }

    private void report(Build build, boolean succeeded, long t0) {
        BuildOutcome outcome = new BuildOutcome(build.repo(), succeeded, java.time.Duration.ofNanos(System.nanoTime() - t0));
        for (var listener : listeners) {
            try {
                listener.accept(outcome);
            } catch (RuntimeException e) {
                log.warn("build listener failed", e);
            }
        }
    }

    /** Builds queued or running, then the last ones that ended, newest first. */
    public java.util.List<Build> builds() {
        java.util.List<Build> all = new java.util.ArrayList<>(inFlight.values());
        all.sort(java.util.Comparator.comparing(Build::created).reversed());
        all.addAll(recent);
        return all;
    }

    /** Stops a queued or running build (an operator's action); returns false when there is no such build. */
    public boolean cancel(String keyId) {
        for (Build build : inFlight.values()) {
            if (build.key().id().equals(keyId)) {
                build.cancel();
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
        org.slf4j.MDC.put("build", build.key().id());
        try {
            runBuild(build);
        } finally {
            org.slf4j.MDC.remove("build");
        }
    }

    private void runBuild(Build build) {
        queued.decrementAndGet();
        synchronized (line) {
            if (line.remove(build)) {
                runningBuilds++;
                for (int i = 0; i < line.size(); i++) {
                    line.get(i).log().line("This build is now " + dev.ferry.Ordinals.of(i + 1) + " in line.");
                }
            }
        }
        started.incrementAndGet();
        build.state(Build.State.RUNNING);
        Instant deadline = build.created().plus(properties.timeout());
        log.info("build {} started for {}", build.key(), build.repo());
        long t0 = System.nanoTime();
        try {
            Environment env = builder.build(new BuildContext() {
                public ResolvedRepo repo() {
                    return build.repo();
                }

                public ImageKey key() {
                    return build.key();
                }

                public BuildLog log() {
                    return build.log();
                }

                public boolean cancelled() {
                    return build.cancelled() || Thread.currentThread().isInterrupted();
                }

                public Instant deadline() {
                    return deadline;
                }
            });
            build.state(Build.State.SUCCEEDED);
            log.info("build {} succeeded in {} ms", build.key(), (System.nanoTime() - t0) / 1_000_000);
            report(build, true, t0);
            build.result().complete(env);
        } catch (Throwable e) {
            dev.ferry.OutOfMemoryExit.reportIfOutOfMemory(e); // a build's error stays in its future: the handler would not see it
            build.state(Build.State.FAILED);
            FerryException failure = failure(build, e);
            log.info("build {} failed after {} ms: {}", build.key(), (System.nanoTime() - t0) / 1_000_000, failure.getMessage());
            if (!(e instanceof FerryException)) {
                log.warn("build {} failed unexpectedly", build.key(), e);
            }
            report(build, false, t0);
            build.result().completeExceptionally(failure);
        }
    }

    private FerryException failure(Build build, Throwable e) {
        if (build.cancelled() && build.created().plus(properties.timeout()).isAfter(Instant.now())) {
            return new BuildFailedException(503, "The build was stopped by an operator or because Ferry is shutting down. "
                    + "Launch again to start a new build.");
        }
        if (build.cancelled()) {
            return new BuildFailedException(504, "The build took longer than the limit of "
                    + dev.ferry.Durations.human(properties.timeout()) + " and was stopped.");
        }
        if (e instanceof FerryException fe) {
            return fe;
        }
        return new BuildFailedException(500, "The build failed because of an error in Ferry (" + e.getClass().getSimpleName()
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
