package dev.ferry.launch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.FerryException;
import dev.ferry.build.Build;
import dev.ferry.build.BuildLog;
import dev.ferry.build.BuildService;
import dev.ferry.build.Environment;
import dev.ferry.build.Phase;
import dev.ferry.repo.RefResolver;
import dev.ferry.repo.ResolvedRepo;

/**
 * Runs launches: resolves the ref, joins or starts the build (relaying its log), starts a session, and reports each
 * step as BinderHub's events ({@code waiting → fetching → building → built → launching → ready}, or {@code failed}
 * with a {@code status_code} and a sentence). A launch runs to its end even when every stream watching it went away:
 * an unwatched session is culled as idle like any other.
 */
public final class LaunchService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LaunchService.class);
    private static final Duration KEEP_FINISHED = Duration.ofMinutes(10);

    private final RefResolver resolver;
    private final BuildService builds;
    private final SessionService sessions;
    private final ExecutorService executor;
    private final Map<String, Launch> launches = new ConcurrentHashMap<>();
    private final List<String> allowedOrigins;
    private final List<Consumer<LaunchOutcome>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger inProgress = new java.util.concurrent.atomic.AtomicInteger();
    /** Why launches are refused now that Ferry is stopping; null while it runs. */
    private volatile String draining;

    /**
     * How one launch ended, for metrics and launch events.
     *
     * @param repo         the resolved repository, or null when resolution failed
     * @param launchTime   the time from the start of the server to ready (or failure), or null when no server was started
     */
    public record LaunchOutcome(LaunchRequest request, ResolvedRepo repo, boolean succeeded, boolean buildOnly,
                                Duration launchTime) {
    }

    private final Capacity capacity;
    private final java.util.function.ToIntFunction<dev.ferry.repo.RepoSpec> repoQuota;
    private final dev.ferry.proxy.SessionHosts sessionHosts;

    /**
     * @param allowedOrigins page origins the launched servers accept ({@code ferry.cors.allowed-origins})
     * @param capacity       the seats sessions take, and the line for when there are none
     * @param repoQuota      the per-repository quota of a spec (0: none)
     * @param sessionHosts   where sessions are served (the portal's host, or each its own with a session domain)
     */
    public LaunchService(RefResolver resolver, BuildService builds, SessionService sessions, ExecutorService executor,
                         List<String> allowedOrigins, Capacity capacity,
                         java.util.function.ToIntFunction<dev.ferry.repo.RepoSpec> repoQuota,
                         dev.ferry.proxy.SessionHosts sessionHosts) {
        this.resolver = resolver;
        this.builds = builds;
        this.sessions = sessions;
        this.executor = executor;
        this.allowedOrigins = List.copyOf(allowedOrigins);
        this.capacity = capacity;
        this.repoQuota = repoQuota;
        this.sessionHosts = sessionHosts;
    }

    /** Called after every launch, successful or not. */
    public void onFinished(Consumer<LaunchOutcome> listener) {
        listeners.add(listener);
    }

    /** Launches waiting in line for a seat. */
    public int waiting() {
        return capacity.waiting();
    }

    /** Launches that have not reached ready or failed yet. */
    public int inProgress() {
        return inProgress.get();
    }

    /** Starts a launch in the background and returns it at once (once Ferry is stopping, a launch that failed). */
    public Launch start(LaunchRequest request) {
        forgetOldLaunches();
        Launch launch = new Launch(SecureIds.sessionId(), request.spec(), builds.logLimits());
        launches.put(launch.id(), launch);
        String refusal = draining;
        if (refusal != null) {
            fail(launch, 503, refusal);
            return launch;
        }
        try {
            executor.execute(() -> run(launch, request));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            fail(launch, 503, refusal != null ? refusal : "Ferry is shutting down; try again in a minute.");
        }
        return launch;
    }

    /**
     * Ferry is stopping: refuses new launches with {@code reason}, ends every launch under way with a {@code failed}
     * event saying {@code reason} (its clients' streams end with it), and interrupts their work (a server being started
     * is stopped, a place in line given up). Returns how many launches were ended.
     */
    public int drain(String reason) {
        draining = reason;
        int ended = 0;
        for (Launch launch : launches.values()) {
            if (!launch.isFinished()) {
                fail(launch, 503, reason);
                ended++;
            }
        }
        executor.shutdownNow();
        return ended;
    }

    /** A launch started recently (running, or finished less than 10 minutes ago). */
    public Optional<Launch> find(String id) {
        return Optional.ofNullable(launches.get(id));
    }

    private void run(Launch launch, LaunchRequest request) {
        org.slf4j.MDC.put("launch", launch.id());
        try {
            runLaunch(launch, request);
        } finally {
            org.slf4j.MDC.remove("launch");
            org.slf4j.MDC.remove("session");
        }
    }

    private void runLaunch(Launch launch, LaunchRequest request) {
        long t0 = System.nanoTime();
        inProgress.incrementAndGet();
        ResolvedRepo repo = null;
        Long serverStart = null;
        boolean succeeded = false;
        try {
            launch.emit(Phase.WAITING, request.spec().ref().isEmpty()
                    ? "Looking up " + request.spec().displayUrl() + "...\n" // a record of an archive: no ref
                    : "Looking up " + request.spec().ref() + " in " + request.spec().displayUrl() + "...\n");
            repo = resolver.resolve(request.spec());
            java.util.Optional<String> note = repo.fallbackNote();
            note.ifPresent(n -> launch.emit(LaunchEvent.of(Phase.WAITING, n + "\n", Map.of("note", n))));
            Build build = builds.request(repo);
            Environment env = awaitBuild(launch, build, request.buildOnly());
            if (request.buildOnly()) {
                launch.emit(LaunchEvent.ready((build.cached() ? "Done! Found built image\n" : "Done! Image built\n")
                        + note.map(n -> n + "\n").orElse(""), Map.of("imageName", env.imageName())));
                succeeded = true;
                return;
            }
            Capacity.Seat seat;
            try {
                seat = capacity.acquire(repo.repoUrl(), repoQuota.applyAsInt(repo.spec()),
                        message -> launch.emit(Phase.WAITING, message), launch::wanted);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchFailedException(503, "Ferry is shutting down; try again in a minute.");
            }
            launch.emit(Phase.LAUNCHING, "Launching server...\n");
            serverStart = System.nanoTime();
            String base = request.publicBase();
            Map<String, String> binder = binderFields(repo, base, request.clientIp());
            Session session;
            try {
                session = sessions.start(repo, env, binderEnvironment(binder), allowedOrigins,
                        line -> launch.emit(Phase.LAUNCHING, line + "\n"), seat::release);
            } catch (RuntimeException e) {
                seat.release();
                throw e;
            }
            launch.session(session);
            org.slf4j.MDC.put("session", session.id());
            String url = sessionHosts.sessionUrl(base, session.id());
            Map<String, Object> ready = new LinkedHashMap<>();
            ready.put("url", url);
            ready.put("token", session.token());
            ready.put("image", env.imageName());
            ready.putAll(binder);
            note.ifPresent(n -> ready.put("note", n));
            launch.emit(LaunchEvent.ready("server running at " + url + "\n" + note.map(n -> n + "\n").orElse(""), ready));
            succeeded = true;
            log.info("launch {} ready in {} ms: {} as session {}", launch.id(), (System.nanoTime() - t0) / 1_000_000, repo,
                    session.id());
        } catch (FerryException e) {
            log.info("launch {} of {} failed ({}): {}", launch.id(), request.spec(), e.status(), e.getMessage());
            // a fallback to the sibling branch explains a failure of the branch launched in its place
            String note = repo == null ? "" : repo.fallbackNote().map(n -> "\n" + n).orElse("");
            fail(launch, e.status(), e.getMessage() + note);
        } catch (RuntimeException e) {
            log.error("launch {} of {} failed unexpectedly", launch.id(), request.spec(), e);
            fail(launch, 500, "The launch failed because of an error in Ferry. Try again; if it keeps failing, tell the operator.");
        } finally {
            inProgress.decrementAndGet();
            Duration launchTime = serverStart == null ? null : Duration.ofNanos(System.nanoTime() - serverStart);
            LaunchOutcome outcome = new LaunchOutcome(request, repo, succeeded, request.buildOnly(), launchTime);
            for (Consumer<LaunchOutcome> listener : listeners) {
                try {
                    listener.accept(outcome);
                } catch (RuntimeException e) {
                    log.warn("launch listener failed", e);
                }
            }
        }
    }

    /** The fields BinderHub puts in the {@code ready} event, which are also the server's {@code BINDER_*} variables. */
    private static Map<String, String> binderFields(ResolvedRepo repo, String base, String clientIp) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("repo_url", repo.spec().displayUrl());
        fields.put("binder_ref_url", repo.refUrl());
        fields.put("binder_launch_host", base + "/");
        fields.put("binder_request", repo.spec().request());
        fields.put("binder_persistent_request", repo.persistentRequest());
        fields.put("binder_client_ip", clientIp);
        return fields;
    }

    /** The {@code BINDER_*} variables of a server for this repository, launched from {@code base}. */
    public static Map<String, String> binderEnvironmentFor(ResolvedRepo repo, String base, String clientIp) {
        return binderEnvironment(binderFields(repo, base, clientIp));
    }

    /** {@code repo_url} → {@code BINDER_REPO_URL}, {@code binder_request} → {@code BINDER_REQUEST}, … */
    private static Map<String, String> binderEnvironment(Map<String, String> fields) {
        Map<String, String> env = new LinkedHashMap<>();
        fields.forEach((name, value) -> env.put(("BINDER_" + name.replaceFirst("^binder_", "")).toUpperCase(java.util.Locale.ROOT), value));
        return env;
    }

    private static void fail(Launch launch, int status, String message) {
        launch.emit(LaunchEvent.failed(status, message));
    }

    private Environment awaitBuild(Launch launch, Build build, boolean buildOnly) {
        if (build.cached()) {
            Environment env = build.result().join();
            if (!buildOnly) {
                launch.emit(LaunchEvent.built("Found built image, launching...\n", env.imageName()));
            }
            return env;
        }
        Consumer<BuildLog.Entry> relay = entry -> {
            String text = entry.text().endsWith("\n") ? entry.text() : entry.text() + "\n";
            launch.emit(entry.phase(), text);
        };
        build.log().subscribe(relay);
        try {
            Environment env = build.result().get();
            launch.emit(LaunchEvent.built(buildOnly ? "Built image\n" : "Built image, launching...\n", env.imageName()));
            return env;
        } catch (ExecutionException | CompletionException e) {
            if (e.getCause() instanceof FerryException fe) {
                throw fe;
            }
            throw new FerryException(500, "The build failed because of an error in Ferry. Try again.", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchFailedException(503, "Ferry is shutting down; try again in a minute.");
        } finally {
            build.log().unsubscribe(relay);
        }
    }

    private void forgetOldLaunches() {
        Instant cutoff = Instant.now().minus(KEEP_FINISHED);
        launches.values().removeIf(l -> l.isFinished() && l.finishedAt().isBefore(cutoff));
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
