package dev.ferry.platform.kubernetes;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1ContainerStatus;
import io.kubernetes.client.openapi.models.V1Pod;

import dev.ferry.build.BuildLog;

/**
 * What keeps a build Job from running, told to the build log as it happens: its Pod's containers waiting for a reason
 * ({@code ErrImagePull}, {@code ImagePullBackOff}, {@code CreateContainerConfigError}, …) and the Job's own events
 * ({@code FailedCreate}: admission or a quota refused its Pod). Without this a Job that can never run is only noticed at
 * the build timeout (an hour by default). {@link #check()} names the cause once it is clearly lasting: an image that
 * does not exist, a Pod refused other than by a full quota, or a refusal or waiting reason that persists past
 * {@code grace}.
 */
final class BuildTrouble {

    /** Waiting reasons that are news for the build log (the others, such as PodInitializing, are normal). */
    private static final Set<String> WAITING = Set.of(
            "ErrImagePull",
            "ImagePullBackOff",
            "InvalidImageName",
            "ErrImageNeverPull",
            "CreateContainerConfigError",
            "CreateContainerError",
            "RunContainerError");
    /** Waiting reasons that no retry mends. */
    private static final Set<String> PERMANENT = Set.of("InvalidImageName", "ErrImageNeverPull");

    private final KubeState state;
    private final String job;
    private final BuildLog out;
    private final Duration grace;
    private final Set<String> relayed = new HashSet<>();
    private long troubleSinceNanos;
    private String failure;
    private int status = 500;

    BuildTrouble(KubeState state, String job, BuildLog out, Duration grace) {
        this.state = state;
        this.job = job;
        this.out = out;
        this.grace = grace;
    }

    /** The sentence to fail the build with, or null. */
    String failure() {
        return failure;
    }

    /** 503 when the namespace's quota is full (it frees when others end), else 500. */
    int status() {
        return status;
    }

    /** Relays what is new to the build log; true when the build cannot run and should fail now ({@link #failure()}). */
    boolean check() {
        if (failure != null) {
            return true;
        }
        String lasting = null;
        List<V1Pod> pods = state.buildPods(job);
        for (V1Pod pod : pods) {
            String waiting = waiting(pod);
            if (waiting != null) {
                lasting = waiting;
            }
        }
        var current = state.job(job);
        String uid = current == null || current.getMetadata() == null
                ? null
                : current.getMetadata().getUid();
        if (pods.isEmpty() && uid != null) {
            for (CoreV1Event e : state.eventsFor("Job", job)) {
                if (!uid.equals(e.getInvolvedObject().getUid())) {
                    continue; // about an earlier Job of this name (events outlive it by an hour): not this build's
                }
                if (!"FailedCreate".equals(e.getReason())) {
                    relay("Job " + job + ": " + e.getReason() + ": " + e.getMessage());
                    continue;
                }
                String message = String.valueOf(e.getMessage());
                relay("Job " + job + ": FailedCreate: " + message);
                boolean quota = message.toLowerCase(Locale.ROOT).contains("exceeded quota");
                String sentence = "The build could not start: Kubernetes refused to create its Pod (" + message + ")."
                        + (quota
                                ? " The namespace's resource quota is full; try again when builds or sessions have ended."
                                : " The operator needs to make the build Job acceptable to the cluster's admission rules"
                                        + " (see docs/kubernetes.md).");
                if (!quota && message.contains("forbidden")) {
                    return fail(sentence, 500); // an admission policy: the same Pod is refused on every retry
                }
                lasting = sentence;
                status = quota ? 503 : 500;
            }
        }
        if (lasting == null) {
            troubleSinceNanos = 0;
            return false;
        }
        long now = System.nanoTime();
        if (troubleSinceNanos == 0) {
            troubleSinceNanos = now;
        }
        return now - troubleSinceNanos >= grace.toNanos() && fail(lasting, status);
    }

    /** Relays the Pod's waiting containers; the sentence for a lasting one, or null. Fails at once on a permanent one. */
    private String waiting(V1Pod pod) {
        String lasting = null;
        for (boolean init : new boolean[] {true, false}) {
            List<V1ContainerStatus> statuses = pod.getStatus() == null
                    ? null
                    : init
                            ? pod.getStatus().getInitContainerStatuses()
                            : pod.getStatus().getContainerStatuses();
            for (V1ContainerStatus s : statuses == null ? List.<V1ContainerStatus>of() : statuses) {
                var w = s.getState() == null ? null : s.getState().getWaiting();
                if (w == null || !WAITING.contains(w.getReason())) {
                    continue;
                }
                String message = w.getMessage() == null ? "" : ": " + w.getMessage();
                relay("Build Pod " + pod.getMetadata().getName() + ", step '" + s.getName() + "': " + w.getReason()
                        + message);
                String sentence = w.getReason().contains("Image")
                        ? "The build could not start: Kubernetes cannot pull the image of its step '" + s.getName()
                                + "' ("
                                + s.getImage() + "): " + w.getReason() + message
                                + ". The operator needs to check the image name "
                                + "(ferry.kubernetes.build."
                                + (BuildJobs.PREPARE.equals(s.getName()) ? "prepare" : "builder")
                                + "-image) and the registry's pull credentials."
                        : "The build could not start: Kubernetes cannot start its step '" + s.getName() + "': "
                                + w.getReason() + message + ".";
                if (PERMANENT.contains(w.getReason()) || permanentPullFailure(w.getMessage())) {
                    fail(sentence, 500);
                    return sentence;
                }
                lasting = sentence;
            }
        }
        return lasting;
    }

    /** A registry's answer that the image is not there: retrying cannot help ("manifest unknown", "not found"). */
    static boolean permanentPullFailure(String message) {
        String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
        return m.contains("manifest unknown") || m.contains("not found");
    }

    private boolean fail(String sentence, int status) {
        this.failure = sentence;
        this.status = status;
        return true;
    }

    private void relay(String line) {
        if (relayed.add(line)) {
            out.line(line + "\n");
        }
    }
}
