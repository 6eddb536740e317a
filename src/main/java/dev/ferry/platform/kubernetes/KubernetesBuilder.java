package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1ContainerStatus;
import io.kubernetes.client.openapi.models.V1DeleteOptions;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobCondition;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Preconditions;
import okhttp3.Call;
import okhttp3.Response;

import dev.ferry.build.BoundedLineReader;
import dev.ferry.build.BuildContext;
import dev.ferry.build.BuildFailedException;
import dev.ferry.build.BuildLog;
import dev.ferry.build.Builder;
import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.build.Phase;

/**
 * Builds as Kubernetes Jobs, one per (repository, commit) with a name every portal replica derives alike, so that a
 * build requested on two replicas is one Job. The image registry is asked first; the Job's pod log is streamed into
 * the build log; the Job's outcome comes from the Job informer.
 */
final class KubernetesBuilder implements Builder {

    private static final Logger log = LoggerFactory.getLogger(KubernetesBuilder.class);

    /** Whether an image is in the registry already ({@code repository}, {@code tag}). */
    @FunctionalInterface
    interface ImageLookup {
        boolean exists(String repository, String tag) throws Exception;
    }

    private final KubeApi api;
    private final KubeState state;
    private final BuildJobs jobs;
    private final RegistryProperties registry;
    private final ImageLookup lookup;
    private final Duration troubleGrace;
    private volatile boolean portalStopping;

    KubernetesBuilder(KubeApi api, KubeState state, BuildJobs jobs, RegistryProperties registry, ImageLookup lookup) {
        this(api, state, jobs, registry, lookup, Duration.ofMinutes(2));
    }

    /** {@code troubleGrace}: how long a build Pod may be refused or unable to start before the build fails. */
    KubernetesBuilder(
            KubeApi api,
            KubeState state,
            BuildJobs jobs,
            RegistryProperties registry,
            ImageLookup lookup,
            Duration troubleGrace) {
        this.troubleGrace = troubleGrace;
        this.api = api;
        this.state = state;
        this.jobs = jobs;
        this.registry = registry;
        this.lookup = lookup;
    }

    /**
     * This portal is stopping: builds it follows are let go, not cancelled. Their Jobs run on, and the next launch of
     * the same commit (on any replica) attaches to them or finds the image.
     */
    void portalStopping() {
        portalStopping = true;
        state.poke();
    }

    static String jobName(ImageKey key) {
        return Labels.jobName(key.id(), key.slug());
    }

    @Override
    public Optional<Environment> findBuilt(ImageKey key) {
        String image = jobs.image(key);
        V1Job job = state.job(jobName(key));
        if (job != null && "Complete".equals(outcome(job))) {
            return Optional.of(new Environment(key, image));
        }
        try {
            if (lookup.exists(registry.repository(key.slug()), key.commit())) {
                return Optional.of(new Environment(key, image));
            }
        } catch (Exception e) {
            log.warn("asking the registry for {} failed ({}); building it", image, e.getMessage());
        }
        return Optional.empty();
    }

    @Override
    public Environment build(BuildContext context) throws Exception {
        ImageKey key = context.key();
        BuildLog out = context.log();
        String name = jobName(key);
        String image = jobs.image(key);
        out.phase(
                Phase.FETCHING,
                "Fetching " + context.repo().spec().displayUrl() + " at "
                        + key.commit().substring(0, 12) + " in build Job " + name + "...\n");
        long timeoutSeconds =
                Math.max(60, Duration.between(Instant.now(), context.deadline()).toSeconds());
        String uid = createJob(jobs.job(name, context.repo(), key, timeoutSeconds), out);
        LogFollower follower = new LogFollower(name, uid, out);
        Thread logs = new Thread(follower, "ferry-build-log-" + name);
        logs.setDaemon(true);
        logs.start();
        BuildTrouble trouble = new BuildTrouble(state, name, out, troubleGrace);
        String outcome;
        try {
            outcome = state.await(
                    () -> {
                        if (context.cancelled()) {
                            return "Cancelled";
                        }
                        V1Job job = job(name, uid);
                        String done = job == null ? null : outcome(job);
                        return done == null && trouble.check() ? "Stuck" : done;
                    },
                    Duration.between(Instant.now(), context.deadline()).plusSeconds(30));
        } catch (RuntimeException e) {
            follower.stop();
            throw e;
        }
        if ("Stuck".equals(outcome)) { // a Job that cannot run: said now, not at the build timeout
            follower.stop();
            deleteJob(name);
            throw new BuildFailedException(trouble.status(), trouble.failure());
        }
        if ("Cancelled".equals(outcome) && portalStopping) {
            follower.stop();
            throw new BuildFailedException(
                    503, "Ferry is restarting; launch again in a minute (the build goes on meanwhile).");
        }
        if (outcome == null || "Cancelled".equals(outcome)) {
            follower.stop();
            deleteJob(name);
            throw new BuildFailedException(
                    504,
                    outcome == null
                            ? "The build did not finish within the build timeout; its Job was removed."
                            : "The build was cancelled; its Job was removed.");
        }
        logs.join(5_000); // the last lines, for the failure message
        follower.stop();
        if ("Complete".equals(outcome)) {
            out.line("Pushed " + image + "\n");
            return new Environment(key, image);
        }
        throw prepareRefusal(name, uid)
                .orElseGet(() -> new BuildFailedException(500, failureSentence(name, uid) + tail(out)));
    }

    /**
     * Creates the build Job, or finds the one of the same name another replica (or an earlier launch) created; returns
     * the uid of the Job to follow. A Job of that name that failed is not followed (the commit could not be retried
     * until {@code ttl-after-finished} removed it): it is deleted, with a precondition on its uid (a Job another
     * replica created meanwhile is kept) and propagation {@code Background} (its Pod goes too), and created again.
     */
    private String createJob(V1Job job, BuildLog out) throws BuildFailedException {
        String name = job.getMetadata().getName();
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                return uidOf(api.batch()
                        .createNamespacedJob(api.buildsNamespace, job)
                        .execute());
            } catch (ApiException e) {
                if (e.getCode() != 409) {
                    throw new BuildFailedException(
                            500, "Ferry could not create the build Job: " + KubeApi.describe(e) + ".");
                }
            }
            V1Job existing = readJob(name);
            if (existing == null) {
                continue; // removed meanwhile: create it
            }
            if (!"Failed".equals(outcome(existing)) && existing.getMetadata().getDeletionTimestamp() == null) {
                out.line("Another Ferry replica is building this commit already; following its build.\n");
                return uidOf(existing);
            }
            if (existing.getMetadata().getDeletionTimestamp() == null) {
                out.line("The last build of this commit failed; building it again.\n");
                deleteFailedJob(name, uidOf(existing));
            }
            state.await(() -> null, Duration.ofMillis(200L * (attempt + 1))); // until the API server has removed it
        }
        throw new BuildFailedException(
                503,
                "Ferry could not replace the failed build Job " + name
                        + " (it is still being deleted); launch again in a minute.");
    }

    private V1Job readJob(String name) throws BuildFailedException {
        try {
            return api.batch().readNamespacedJob(name, api.buildsNamespace).execute();
        } catch (ApiException e) {
            if (e.getCode() == 404) {
                return null;
            }
            throw new BuildFailedException(500, "Ferry could not read the build Job: " + KubeApi.describe(e) + ".");
        }
    }

    private void deleteFailedJob(String name, String uid) throws BuildFailedException {
        try {
            api.batch()
                    .deleteNamespacedJob(name, api.buildsNamespace)
                    .propagationPolicy("Background")
                    .body(new V1DeleteOptions()
                            .propagationPolicy("Background")
                            .preconditions(new V1Preconditions().uid(uid)))
                    .execute();
        } catch (ApiException e) {
            if (e.getCode() != 404
                    && e.getCode() != 409) { // gone, or replaced by another replica's: create or follow it
                throw new BuildFailedException(
                        500, "Ferry could not remove the failed build Job: " + KubeApi.describe(e) + ".");
            }
        }
    }

    private static String uidOf(V1Job job) {
        return job.getMetadata() == null ? null : job.getMetadata().getUid();
    }

    /** The Job of that name if it is the one this build follows (not a failed one it replaced); null otherwise. */
    private V1Job job(String name, String uid) {
        V1Job job = state.job(name);
        return job == null || (uid != null && !uid.equals(uidOf(job))) ? null : job;
    }

    /** The Pods of the Job this build follows: those of a failed Job it replaced may linger a while. */
    private List<V1Pod> pods(String name, String uid) {
        return state.buildPods(name).stream()
                .filter(p -> {
                    String owner = p.getMetadata().getLabels().get(CONTROLLER_UID);
                    return uid == null || owner == null || uid.equals(owner);
                })
                .toList();
    }

    /** The label the Job controller puts on the Pods it creates. */
    static final String CONTROLLER_UID = "batch.kubernetes.io/controller-uid";

    private static final Pattern REFUSAL = Pattern.compile("(?s)^([45][0-9]{2}) (.+)$");

    /**
     * The sentence and status {@code prepare} refused the repository with (its termination message, e.g. 413 for a
     * repository over a checkout limit), when that is why the Job failed.
     */
    private Optional<BuildFailedException> prepareRefusal(String name, String uid) {
        for (V1Pod pod : pods(name, uid)) {
            List<V1ContainerStatus> statuses =
                    pod.getStatus() == null ? null : pod.getStatus().getInitContainerStatuses();
            for (V1ContainerStatus s : statuses == null ? List.<V1ContainerStatus>of() : statuses) {
                String message = s.getState() == null || s.getState().getTerminated() == null
                        ? null
                        : s.getState().getTerminated().getMessage();
                Matcher m = message == null ? null : REFUSAL.matcher(message.strip());
                if (BuildJobs.PREPARE.equals(s.getName()) && m != null && m.matches()) {
                    return Optional.of(new BuildFailedException(Integer.parseInt(m.group(1)), m.group(2)));
                }
            }
        }
        return Optional.empty();
    }

    private static String tail(BuildLog out) {
        String tail = out.tail(20);
        return tail.isBlank() ? "" : " Last lines of its log:\n" + tail;
    }

    /** Which step of the Job failed, as a sentence. */
    private String failureSentence(String name, String uid) {
        V1Job job = job(name, uid);
        if (job != null && job.getStatus() != null && job.getStatus().getConditions() != null) {
            for (V1JobCondition c : job.getStatus().getConditions()) {
                if ("Failed".equals(c.getType()) && "DeadlineExceeded".equals(c.getReason())) {
                    return "The build took longer than the build timeout and was stopped.";
                }
            }
        }
        for (V1Pod pod : pods(name, uid)) {
            String evicted = evicted(pod);
            if (evicted != null) { // its containers show as killed too: the eviction is the reason, not the build
                return evicted;
            }
            if (failed(pod.getStatus() == null ? null : pod.getStatus().getInitContainerStatuses())) {
                return "Fetching the repository and preparing the build (step 'prepare') failed. Check that the "
                        + "repository and commit can be cloned and that its environment files are valid.";
            }
            if (failed(pod.getStatus() == null ? null : pod.getStatus().getContainerStatuses())) {
                return "Building the image (step 'build') failed. Check the repository's environment files "
                        + "(requirements.txt, environment.yml, apt.txt, postBuild, Dockerfile).";
            }
        }
        return "The build Job failed.";
    }

    /**
     * The sentence for a build Pod the kubelet evicted, or null: over its disk bound (ephemeral-storage limit, an
     * emptyDir's sizeLimit), which the operator can raise, or its node running short.
     */
    static String evicted(V1Pod pod) {
        if (pod.getStatus() == null || !"Evicted".equals(pod.getStatus().getReason())) {
            return null;
        }
        String message = pod.getStatus().getMessage() == null
                ? ""
                : pod.getStatus().getMessage().trim();
        boolean disk = message.toLowerCase(Locale.ROOT).matches(".*(ephemeral|storage|emptydir|sizelimit|disk).*");
        return "Kubernetes evicted the build's Pod" + (message.isEmpty() ? "." : " (" + message + ").")
                + (disk
                        ? " The build reached its bound on node disk, or its node ran short of disk: a large environment "
                                + "may need the operator to raise ferry.kubernetes.build.ephemeral-storage-limit."
                        : " Launch again to retry the build.");
    }

    private static boolean failed(List<V1ContainerStatus> statuses) {
        return statuses != null
                && statuses.stream()
                        .anyMatch(s -> s.getState() != null
                                && s.getState().getTerminated() != null
                                && s.getState().getTerminated().getExitCode() != 0);
    }

    /** {@code Complete}, {@code Failed}, or null while running. */
    static String outcome(V1Job job) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return null;
        }
        for (V1JobCondition c : job.getStatus().getConditions()) {
            if ("True".equals(c.getStatus()) && ("Complete".equals(c.getType()) || "Failed".equals(c.getType()))) {
                return c.getType();
            }
        }
        return null;
    }

    void deleteJob(String name) {
        try {
            api.batch()
                    .deleteNamespacedJob(name, api.buildsNamespace)
                    .propagationPolicy("Background")
                    .execute();
        } catch (ApiException e) {
            if (e.getCode() != 404) {
                log.warn("build job {}: deleting it failed: {}", name, KubeApi.describe(e));
            }
        }
    }

    /** Streams the logs of the Job's pod, step by step, into the build log. */
    private final class LogFollower implements Runnable {
        private final String job;
        private final String uid;
        private final BuildLog out;
        private volatile boolean stopped;
        private volatile Call call;

        LogFollower(String job, String uid, BuildLog out) {
            this.job = job;
            this.uid = uid;
            this.out = out;
        }

        void stop() {
            stopped = true;
            Call c = call;
            if (c != null) {
                c.cancel();
            }
        }

        @Override
        public void run() {
            try {
                follow(BuildJobs.PREPARE, true);
                if (!stopped) {
                    out.phase(Phase.BUILDING, "Building the image...\n");
                    follow(BuildJobs.BUILDER, false);
                }
            } catch (RuntimeException e) {
                log.debug("build job {}: following its log stopped: {}", job, e.toString());
            }
        }

        /** Waits for the step to start, then streams its log until it ends. */
        private void follow(String container, boolean init) {
            V1Pod pod = state.await(
                    () -> {
                        if (stopped) {
                            return null;
                        }
                        for (V1Pod p : pods(job, uid)) {
                            if (started(p, container, init)) {
                                return p;
                            }
                        }
                        V1Job j = job(job, uid);
                        return j != null
                                        && outcome(j) != null
                                        && !pods(job, uid).isEmpty()
                                ? pods(job, uid).get(0)
                                : null;
                    },
                    Duration.ofHours(24));
            if (pod == null || stopped) {
                return;
            }
            for (int attempt = 0; attempt < 3 && !stopped; attempt++) {
                try {
                    call = api.coreStreaming()
                            .readNamespacedPodLog(pod.getMetadata().getName(), api.buildsNamespace)
                            .container(container)
                            .follow(true)
                            .buildCall(null);
                    try (Response response = call.execute()) {
                        if (response.code() == 200 && response.body() != null) {
                            // the log is the build's own output: one endless line must not be held whole
                            try (BoundedLineReader reader = new BoundedLineReader(
                                    response.body().byteStream(), out.limits().maxLineLength())) {
                                String line;
                                while (!stopped && (line = reader.readLine()) != null) {
                                    out.line(line + "\n");
                                }
                            }
                            return;
                        }
                    }
                } catch (ApiException | IOException e) {
                    if (stopped) {
                        return;
                    }
                }
                state.await(() -> null, Duration.ofSeconds(1)); // the container may not be ready to give its log yet
            }
        }

        private static boolean started(V1Pod p, String container, boolean init) {
            if (p.getStatus() == null) {
                return false;
            }
            List<V1ContainerStatus> statuses = init
                    ? p.getStatus().getInitContainerStatuses()
                    : p.getStatus().getContainerStatuses();
            return statuses != null
                    && statuses.stream()
                            .anyMatch(s -> container.equals(s.getName())
                                    && s.getState() != null
                                    && (s.getState().getRunning() != null
                                            || s.getState().getTerminated() != null));
        }
    }
}
