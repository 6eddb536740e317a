package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1ContainerStateWaiting;
import io.kubernetes.client.openapi.models.V1ContainerStatus;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodCondition;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.Durations;
import dev.ferry.session.LaunchFailedException;
import dev.ferry.session.Membership;
import dev.ferry.session.RunningServer;
import dev.ferry.session.SessionRuntime;
import dev.ferry.session.SessionSpec;

/**
 * Sessions as Pods: creates the session's Pod, relays its Kubernetes events as progress, and reports it running when
 * the Pod is Ready and Jupyter answers on the Pod's address; reports (and ends) a session whose Pod fails, is evicted
 * or is deleted.
 */
final class KubernetesSessionRuntime implements SessionRuntime {

    private static final Logger log = LoggerFactory.getLogger(KubernetesSessionRuntime.class);
    /** Waiting reasons the kubelet does not get past by retrying. */
    private static final Set<String> PULL_FAILURES =
            Set.of("InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError");
    /** Waiting reasons the kubelet retries (with back-off): a failure only when the message says the image is not there. */
    private static final Set<String> PULL_RETRIES = Set.of("ErrImagePull", "ImagePullBackOff");
    /** What registries and runtimes (Docker, containerd, CRI-O) say of an image that does not exist. */
    private static final List<String> IMAGE_MISSING =
            List.of("manifest unknown", "not found", "name unknown", "repository does not exist");
    /**
     * What they say when they refuse to serve it: Docker Hub says "pull access denied" for a missing repository too, so
     * this is not retried either (no retry turns a refusal into an image).
     */
    private static final List<String> IMAGE_REFUSED =
            List.of("pull access denied", "unauthorized", "authorization failed", "403 forbidden", "denied: ");

    private final KubeApi api;
    private final KubeState state;
    private final SessionPods pods;
    private final Duration timeout;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Set<String> starting = ConcurrentHashMap.newKeySet();
    private final Map<String, PodServer> servers = new ConcurrentHashMap<>();

    KubernetesSessionRuntime(KubeApi api, KubeState state, SessionPods pods, Duration timeout) {
        this.api = api;
        this.state = state;
        this.pods = pods;
        this.timeout = timeout;
        state.onPods(this::check, pod -> {
            PodServer server = servers.remove(pod.getMetadata().getName());
            if (server != null) {
                String reason = annotation(pod, Labels.A_END_REASON);
                server.exited.complete(reason != null ? reason : "its Pod was deleted.");
            }
        });
    }

    /** A session's server: the Pod's address, port 8888. */
    static final class PodServer implements RunningServer {
        private final String host;
        private final CompletableFuture<String> exited = new CompletableFuture<>();

        PodServer(String host) {
            this.host = host;
        }

        @Override
        public String host() {
            return host;
        }

        @Override
        public int port() {
            return SessionPods.PORT;
        }

        @Override
        public CompletableFuture<String> exited() {
            return exited;
        }
    }

    private void check(V1Pod pod) {
        PodServer server = servers.get(pod.getMetadata().getName());
        if (server != null) {
            String failure = failure(pod);
            if (failure != null) {
                servers.remove(pod.getMetadata().getName());
                server.exited.complete(failure);
            }
        }
    }

    boolean isStarting(String sessionId) {
        return starting.contains(sessionId);
    }

    /** The server of a running Pod this portal did not start (adoption); null when it is not running. */
    PodServer serverFor(V1Pod pod) {
        if (!runningAndReady(pod) || failure(pod) != null) {
            return null;
        }
        return servers.computeIfAbsent(
                pod.getMetadata().getName(), n -> new PodServer(pod.getStatus().getPodIP()));
    }

    @Override
    public RunningServer start(SessionSpec spec, Consumer<String> progress) {
        String name = Labels.podName(spec.id());
        starting.add(spec.id());
        boolean ok = false;
        try {
            V1Pod pod = pods.pod(spec, Instant.now());
            try {
                api.core().createNamespacedPod(api.sessionsNamespace, pod).execute();
            } catch (ApiException e) {
                throw new LaunchFailedException(
                        e.getCode() == 403
                                        && String.valueOf(e.getResponseBody()).contains("quota")
                                ? 503
                                : 500,
                        "Ferry could not create the session's Pod: " + KubeApi.describe(e)
                                + (e.getCode() == 403
                                                && String.valueOf(e.getResponseBody())
                                                        .contains("quota")
                                        ? ". The namespace's resource quota is full; try again when sessions have ended."
                                        : "."));
            }
            progress.accept("Pod " + name + " created; waiting for Kubernetes to schedule it.");
            PodServer server = awaitReady(spec, name, progress);
            ok = true;
            return server;
        } finally {
            if (!ok) {
                starting.remove(spec.id());
                servers.remove(name);
                delete(name, null);
            }
        }
    }

    private PodServer awaitReady(SessionSpec spec, String name, Consumer<String> progress) {
        Set<String> said = new HashSet<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean seen = false;
        String autoscaler = null; // why the cluster autoscaler did not add a node (NotTriggerScaleUp), if it said
        String pulling = null; // the kubelet's last pull error, while it retries
        while (System.nanoTime() < deadline) {
            V1Pod pod = state.pod(name);
            if (pod == null && seen) {
                throw new LaunchFailedException(500, "The session's Pod was deleted before it started. Launch again.");
            }
            if (pod != null) {
                seen = true;
                String failure = failure(pod);
                if (failure != null) {
                    throw new LaunchFailedException(500, "The session could not start: " + failure);
                }
                String pull = relayWaiting(pod, said, progress);
                pulling = pull != null ? pull : pulling;
            }
            // after the Pod's own state, so that of a message both carry the line that explains it is the one shown
            String notScaledUp = relayEvents(name, said, progress);
            autoscaler = notScaledUp != null ? notScaledUp : autoscaler;
            if (pod != null && runningAndReady(pod) && answers(pod.getStatus().getPodIP(), spec)) {
                PodServer server = new PodServer(pod.getStatus().getPodIP());
                servers.put(name, server);
                markReady(name);
                return server;
            }
            state.await(
                    () -> null,
                    Duration.ofMillis(Math.min(1000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000))));
        }
        throw timedOut(state.pod(name), autoscaler, pulling);
    }

    /**
     * Relays what the Pod waits for, once per message: a node with room (no room is not the end: a cluster autoscaler
     * may be adding one), or an image pull the kubelet retries. Returns "reason: message" of that pull, or null.
     */
    private static String relayWaiting(V1Pod pod, Set<String> said, Consumer<String> progress) {
        String scheduler = unschedulable(pod);
        if (scheduler != null && said.add(scheduler)) {
            progress.accept("Waiting for a node with room for the session: " + scheduler);
        }
        V1ContainerStateWaiting pull = pullRetry(pod);
        if (pull == null) {
            return null;
        }
        String pulling = said(pull);
        // the kubelet's BackOff event may carry the same message: once is enough
        if (said.add(pull.getMessage() == null ? pulling : pull.getMessage())) {
            progress.accept("Pulling the image failed for now (" + pulling + "); Kubernetes tries again.");
        }
        return pulling;
    }

    /** Why the launch ran out of time, naming what the scheduler, the autoscaler or the kubelet said last. */
    private LaunchFailedException timedOut(V1Pod pod, String autoscaler, String pulling) {
        String within = "The session did not start within " + Durations.human(timeout);
        String scheduler = pod == null ? null : unschedulable(pod);
        if (scheduler != null) {
            return new LaunchFailedException(
                    503,
                    within + ": no node in the cluster had room for its Pod, and none was "
                            + "added in time (the scheduler last said: \"" + scheduler + "\""
                            + (autoscaler == null ? "" : "; the cluster autoscaler: \"" + autoscaler + "\"")
                            + "). Try again later; if this keeps happening, the operator needs more nodes (or room for the "
                            + "autoscaler to add them) or smaller session resources.");
        }
        if (pod != null && pullRetry(pod) != null) {
            return new LaunchFailedException(
                    504,
                    within + ": the cluster could not pull its image (the last error: " + pulling
                            + "). The registry may be unreachable or overloaded; launch again in a few minutes.");
        }
        String phase = pod == null || pod.getStatus() == null
                ? "unknown"
                : pod.getStatus().getPhase();
        return new LaunchFailedException(
                504,
                within + " (its Pod is " + phase
                        + "). The cluster may be busy pulling the image or short of room; launch again in a minute.");
    }

    /**
     * Relays the Pod's events whose message was not said yet (the scheduler repeats FailedScheduling with a growing count,
     * and with the message of the Pod's condition); returns the message of the last NotTriggerScaleUp among them, or null.
     */
    private String relayEvents(String name, Set<String> said, Consumer<String> progress) {
        String autoscaler = null;
        for (CoreV1Event e : state.eventsFor("Pod", name)) {
            if (e.getMessage() != null && said.add(e.getMessage())) {
                progress.accept(e.getReason() + ": " + e.getMessage());
            }
            if ("NotTriggerScaleUp".equals(e.getReason())) {
                autoscaler = e.getMessage();
            }
        }
        return autoscaler;
    }

    /** The scheduler's message while it finds no node for the Pod; null once scheduled (or before it tried). */
    static String unschedulable(V1Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return null;
        }
        for (V1PodCondition c : pod.getStatus().getConditions()) {
            if ("PodScheduled".equals(c.getType())
                    && "False".equals(c.getStatus())
                    && "Unschedulable".equals(c.getReason())) {
                return c.getMessage() == null ? "no message" : c.getMessage();
            }
        }
        return null;
    }

    /** The waiting state of a pull the kubelet is retrying (ErrImagePull, ImagePullBackOff); null when there is none. */
    static V1ContainerStateWaiting pullRetry(V1Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return null;
        }
        for (V1ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
            var waiting = cs.getState() == null ? null : cs.getState().getWaiting();
            if (waiting != null && PULL_RETRIES.contains(waiting.getReason())) {
                return waiting;
            }
        }
        return null;
    }

    private static String said(V1ContainerStateWaiting waiting) {
        return waiting.getReason() + (waiting.getMessage() == null ? "" : ": " + waiting.getMessage());
    }

    private boolean answers(String ip, SessionSpec spec) {
        try {
            HttpResponse<Void> r = http.send(
                    HttpRequest.newBuilder(URI.create(
                                    "http://" + hostPart(ip) + ":" + SessionPods.PORT + spec.baseUrl() + "api/status"))
                            .header("Authorization", "token " + spec.token())
                            .timeout(Duration.ofSeconds(2))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String hostPart(String ip) {
        return ip.contains(":") ? "[" + ip + "]" : ip;
    }

    /**
     * Records on the Pod that it has been Ready, so that the janitor (on whichever replica leads) tells a session that is
     * only momentarily not Ready (a kernel busy under its CPU limit) from a launch that never finished.
     */
    private void markReady(String name) {
        try {
            api.mergePatchPod(
                    name, "{\"metadata\":{\"annotations\":{\"" + Labels.A_READY_AT + "\":\"" + Instant.now() + "\"}}}");
        } catch (ApiException e) {
            log.warn("session pod {}: recording that it became ready failed: {}", name, KubeApi.describe(e));
        }
    }

    /** Whether the Pod has been Ready once: marked by its launch, or used since (Pods of portals before the mark). */
    static boolean becameReady(V1Pod pod) {
        var annotations = pod.getMetadata().getAnnotations();
        if (annotations == null) {
            return false;
        }
        if (annotations.get(Labels.A_READY_AT) != null) {
            return true;
        }
        Instant created = SessionPods.instant(pod, Labels.A_CREATED, null);
        Instant active = SessionPods.instant(pod, Labels.A_LAST_ACTIVITY, null);
        return created != null && active != null && active.isAfter(created);
    }

    static boolean runningAndReady(V1Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null
                || pod.getStatus() == null
                || !"Running".equals(pod.getStatus().getPhase())
                || pod.getStatus().getPodIP() == null) {
            return false;
        }
        List<V1PodCondition> conditions = pod.getStatus().getConditions();
        return conditions != null
                && conditions.stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** What went wrong with a session's Pod, as a sentence; null while it is well (or still starting). */
    static String failure(V1Pod pod) {
        var status = pod.getStatus();
        if (status == null) {
            return null;
        }
        if ("Evicted".equals(status.getReason())) {
            return "Kubernetes evicted its Pod (" + status.getMessage() + ").";
        }
        if (status.getContainerStatuses() != null) {
            for (V1ContainerStatus cs : status.getContainerStatuses()) {
                var state = cs.getState();
                if (state == null) {
                    continue;
                }
                String pull = state.getWaiting() == null
                        ? null
                        : pullFailure(
                                cs.getImage(),
                                state.getWaiting().getReason(),
                                state.getWaiting().getMessage());
                if (pull != null) {
                    return pull;
                }
                if (state.getTerminated() != null) {
                    var t = state.getTerminated();
                    if ("OOMKilled".equals(t.getReason())) {
                        return "the notebook server ran out of memory and was stopped by Kubernetes (OOMKilled). "
                                + "Use less memory, or ask the operator for a larger memory limit.";
                    }
                    return "the notebook server exited (exit code " + t.getExitCode()
                            + (t.getReason() == null ? "" : ", " + t.getReason()) + ").";
                }
            }
        }
        if ("Failed".equals(status.getPhase()) || "Succeeded".equals(status.getPhase())) {
            return "its Pod " + status.getPhase().toLowerCase(Locale.ROOT)
                    + (status.getMessage() == null ? "." : " (" + status.getMessage() + ").");
        }
        return null;
    }

    /**
     * A waiting reason the kubelet will not get past, as a sentence; null for one it retries (a registry timing out,
     * answering 5xx, refusing connections: it may recover before the launch timeout) and for every other reason.
     */
    static String pullFailure(String image, String reason, String message) {
        String said = said(new V1ContainerStateWaiting().reason(reason).message(message));
        if (PULL_FAILURES.contains(reason)) {
            return "its image " + image + " could not be used (" + said
                    + "). If the build was removed from the registry, " + "launch again to rebuild it.";
        }
        if (!PULL_RETRIES.contains(reason) || message == null) {
            return null;
        }
        String m = message.toLowerCase(Locale.ROOT);
        if (IMAGE_REFUSED.stream().anyMatch(m::contains)) {
            return "the registry refused the cluster its image " + image + " (" + said
                    + "): the image is not there, or the "
                    + "registry needs credentials the cluster lacks. If the build was removed from the registry, launch "
                    + "again to rebuild it; if the registry needs credentials, the operator names a pull Secret in "
                    + "ferry.kubernetes.session.image-pull-secrets.";
        }
        if (IMAGE_MISSING.stream().anyMatch(m::contains)) {
            return "its image " + image + " is not in the registry (" + said + "). If the build was removed from the "
                    + "registry, launch again to rebuild it.";
        }
        return null;
    }

    /**
     * Hands a pool session to an attendee on the Pod itself, so that every replica sees whose it is: a merge patch
     * carrying the {@code resourceVersion} read, which the API server refuses (409) when the Pod changed since — when
     * another replica handed it over first, or wrote its activity (then it is read again and retried).
     */
    @Override
    public boolean handOver(SessionSpec spec, Membership from, Membership to) {
        String name = Labels.podName(spec.id());
        for (int attempt = 0; attempt < 5; attempt++) {
            V1Pod pod;
            try {
                pod = api.core().readNamespacedPod(name, api.sessionsNamespace).execute();
            } catch (ApiException e) {
                if (e.getCode() == 404) {
                    return false; // gone: nobody gets it
                }
                throw new LaunchFailedException(
                        503, "Ferry could not hand over a notebook: " + KubeApi.describe(e) + ".");
            }
            Boolean won = handOver(pod, from, to);
            if (won != null) {
                return won;
            }
        }
        throw new LaunchFailedException(503, "Ferry could not hand over a notebook: its Pod kept changing. Try again.");
    }

    /** One attempt on the Pod as read: won, lost (not pooled any more), or null when the Pod changed since it was read. */
    Boolean handOver(V1Pod pod, Membership from, Membership to) {
        if (!from.equals(SessionPods.membershipOf(pod))) {
            return false; // handed to somebody else already
        }
        String name = pod.getMetadata().getName();
        String patch =
                "{\"metadata\":{\"resourceVersion\":\"" + pod.getMetadata().getResourceVersion()
                        + "\",\"annotations\":{\"" + Labels.A_ATTENDEE + "\":\"" + to.attendee() + "\",\""
                        + Labels.A_LAST_ACTIVITY + "\":\"" + Instant.now() + "\"}}}";
        try {
            api.mergePatchPod(name, patch);
            return true;
        } catch (ApiException e) {
            if (e.getCode() == 409) {
                return null;
            }
            if (e.getCode() == 404) {
                return false;
            }
            throw new LaunchFailedException(503, "Ferry could not hand over a notebook: " + KubeApi.describe(e) + ".");
        }
    }

    @Override
    public boolean sessionsOutlivePortal() {
        return true;
    }

    @Override
    public void registered(SessionSpec spec) {
        starting.remove(spec.id());
    }

    @Override
    public void stop(SessionSpec spec, RunningServer server) {
        stop(spec, server, null);
    }

    @Override
    public void stop(SessionSpec spec, RunningServer server, String reason) {
        String name = Labels.podName(spec.id());
        servers.remove(name);
        starting.remove(spec.id());
        delete(name, reason);
    }

    /** Deletes the Pod, first telling the other portal replicas why (an annotation they read when it goes). */
    private void delete(String name, String reason) {
        try {
            if (reason != null && state.pod(name) != null) {
                String patch = "{\"metadata\":{\"annotations\":{\"" + Labels.A_END_REASON + "\":"
                        + JsonMapper.builder().build().writeValueAsString(reason) + "}}}";
                api.mergePatchPod(name, patch);
            }
        } catch (ApiException e) {
            log.debug("pod {}: annotating the end reason failed: {}", name, KubeApi.describe(e));
        }
        try {
            api.core()
                    .deleteNamespacedPod(name, api.sessionsNamespace)
                    .gracePeriodSeconds(5)
                    .execute();
        } catch (ApiException e) {
            if (e.getCode() != 404) {
                log.warn("pod {}: deleting it failed: {} (the janitor retries)", name, KubeApi.describe(e));
            }
        }
    }

    static String annotation(V1Pod pod, String key) {
        return pod.getMetadata() == null || pod.getMetadata().getAnnotations() == null
                ? null
                : pod.getMetadata().getAnnotations().get(key);
    }
}
