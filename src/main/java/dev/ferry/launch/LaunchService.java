package dev.ferry.launch;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import dev.ferry.FerryException;
import dev.ferry.build.Build;
import dev.ferry.build.BuildLog;
import dev.ferry.build.BuildService;
import dev.ferry.build.Environment;
import dev.ferry.build.Phase;
import dev.ferry.capacity.Capacity;
import dev.ferry.proxy.SessionHosts;
import dev.ferry.repo.RefResolver;
import dev.ferry.repo.RepoSpec;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.LaunchFailedException;
import dev.ferry.session.Membership;
import dev.ferry.session.SecureIds;
import dev.ferry.session.Session;
import dev.ferry.session.SessionService;

/**
 * Runs launches: resolves the ref, joins or starts the build (relaying its log), starts a session, and reports each
 * step as BinderHub's events ({@code waiting → fetching → building → built → launching → ready}, or {@code failed}
 * with a {@code status_code} and a sentence). A launch runs to its end even when every stream watching it went away:
 * an unwatched session is culled as idle like any other. Every launch takes this path, a workshop attendee's too: its
 * {@link SeatSource} is the workshop (its pinned commit and build, a pool session or a reserved seat) instead of the
 * capacity quota, and it is counted, logged and followed like any other.
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
    private final List<Consumer<LaunchOutcome>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger inProgress = new AtomicInteger();
    /** Why launches are refused now that Ferry is stopping; null while it runs. */
    private volatile String draining;

    /**
     * How one launch ended, for metrics and launch events.
     *
     * @param repo         the resolved repository, or null when resolution failed
     * @param launchTime   the time from the start of the server to ready (or failure), or null when no server was started
     */
    public record LaunchOutcome(
            LaunchRequest request, ResolvedRepo repo, boolean succeeded, boolean buildOnly, Duration launchTime) {}

    private final Capacity capacity;
    /** Seats of general launches: the capacity quota (total and per repository), and its line. */
    private final SeatSource quota;

    private final SessionHosts sessionHosts;

    /**
     * @param allowedOrigins page origins the launched servers accept ({@code ferry.cors.allowed-origins})
     * @param capacity       the seats sessions take, and the line for when there are none
     * @param repoQuota      the per-repository quota of a spec (0: none)
     * @param sessionHosts   where sessions are served (the portal's host, or each its own with a session domain)
     */
    public LaunchService(
            RefResolver resolver,
            BuildService builds,
            SessionService sessions,
            ExecutorService executor,
            List<String> allowedOrigins,
            Capacity capacity,
            ToIntFunction<RepoSpec> repoQuota,
            SessionHosts sessionHosts) {
        this.resolver = resolver;
        this.builds = builds;
        this.sessions = sessions;
        this.executor = executor;
        this.allowedOrigins = List.copyOf(allowedOrigins);
        this.capacity = capacity;
        this.quota = (repo, waiting, wanted, start) -> {
            Capacity.Seat seat = capacity.acquire(repo.repoUrl(), repoQuota.applyAsInt(repo.spec()), waiting, wanted);
            return start.start(seat::release, null);
        };
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
        } catch (RejectedExecutionException e) {
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
        MDC.put("launch", launch.id());
        try {
            runLaunch(launch, request);
        } finally {
            MDC.remove("launch");
            MDC.remove("session");
        }
    }

    private void runLaunch(Launch launch, LaunchRequest request) {
        long t0 = System.nanoTime();
        inProgress.incrementAndGet();
        ResolvedRepo repo = null;
        Long serverStart = null;
        boolean succeeded = false;
        SeatSource seats = request.seats() != null ? request.seats() : quota;
        try {
            repo = seats.pinned().orElseGet(() -> resolve(launch, request.spec()));
            Optional<String> note = repo.fallbackNote();
            note.ifPresent(n -> launch.emit(LaunchEvent.of(Phase.WAITING, n + "\n", Map.of("note", n))));
            Build build = seats.build(builds, repo);
            Environment env = awaitBuild(launch, build, request.buildOnly());
            if (request.buildOnly()) {
                launch.emit(LaunchEvent.ready(
                        (build.cached() ? "Done! Found built image\n" : "Done! Image built\n")
                                + note.map(n -> n + "\n").orElse(""),
                        Map.of("imageName", env.imageName())));
                succeeded = true;
                return;
            }
            String base = request.publicBase();
            Map<String, String> binder = binderFields(repo, base, request.clientIp());
            long[] started = {0};
            ResolvedRepo launched = repo;
            Session session;
            try {
                session = seats.place(
                        repo, message -> launch.emit(Phase.WAITING, message), launch::wanted, (release, membership) -> {
                            started[0] = System.nanoTime();
                            return startSession(launch, launched, env, binder, release, membership);
                        });
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchFailedException(503, "Ferry is shutting down; try again in a minute.");
            }
            serverStart = started[0] != 0 ? started[0] : System.nanoTime(); // handed over: ready now
            launch.session(session);
            MDC.put("session", session.id());
            String url = sessionHosts.sessionUrl(base, session.id());
            Map<String, Object> ready = new LinkedHashMap<>();
            ready.put("url", url);
            ready.put("token", session.token());
            ready.put("image", env.imageName());
            ready.putAll(binder);
            note.ifPresent(n -> ready.put("note", n));
            launch.emit(LaunchEvent.ready(
                    "server running at " + url + "\n" + note.map(n -> n + "\n").orElse(""), ready));
            succeeded = true;
            log.info(
                    "launch {} ready in {} ms: {} as session {}",
                    launch.id(),
                    (System.nanoTime() - t0) / 1_000_000,
                    repo,
                    session.id());
        } catch (FerryException e) {
            log.info("launch {} of {} failed ({}): {}", launch.id(), request.spec(), e.status(), e.getMessage());
            // a fallback to the sibling branch explains a failure of the branch launched in its place
            String note =
                    repo == null ? "" : repo.fallbackNote().map(n -> "\n" + n).orElse("");
            fail(launch, e.status(), e.getMessage() + note);
        } catch (RuntimeException e) {
            log.error("launch {} of {} failed unexpectedly", launch.id(), request.spec(), e);
            fail(
                    launch,
                    500,
                    "The launch failed because of an error in Ferry. Try again; if it keeps failing, tell the operator.");
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

    /** Emits what is looked up, and resolves the link's ref to a commit. */
    private ResolvedRepo resolve(Launch launch, RepoSpec spec) {
        launch.emit(
                Phase.WAITING,
                spec.ref().isEmpty()
                        ? "Looking up " + spec.displayUrl() + "...\n" // a record of an archive: no ref
                        : "Looking up " + spec.ref() + " in " + spec.displayUrl() + "...\n");
        return resolver.resolve(spec);
    }

    /** Starts the session on the seat given; the seat comes back when the session ends, or at once if it fails. */
    private Session startSession(
            Launch launch,
            ResolvedRepo repo,
            Environment env,
            Map<String, String> binder,
            Runnable release,
            Membership membership) {
        launch.emit(Phase.LAUNCHING, "Launching server...\n");
        try {
            return sessions.start(
                    repo,
                    env,
                    binderEnvironment(binder),
                    allowedOrigins,
                    membership,
                    line -> launch.emit(Phase.LAUNCHING, line + "\n"),
                    release);
        } catch (RuntimeException e) {
            release.run();
            throw e;
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
        fields.forEach((name, value) ->
                env.put(("BINDER_" + name.replaceFirst("^binder_", "")).toUpperCase(Locale.ROOT), value));
        return env;
    }

    private static void fail(Launch launch, int status, String message) {
        launch.emit(LaunchEvent.failed(status, message));
    }

    private Environment awaitBuild(Launch launch, Build build, boolean buildOnly) {
        if (build.cached() || built(build)) { // a workshop's build, finished before its attendee came: no log to relay
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
            launch.emit(
                    LaunchEvent.built(buildOnly ? "Built image\n" : "Built image, launching...\n", env.imageName()));
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

    private static boolean built(Build build) {
        return build.result().isDone() && !build.result().isCompletedExceptionally();
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
