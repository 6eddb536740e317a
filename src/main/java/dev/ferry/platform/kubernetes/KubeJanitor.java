package dev.ferry.platform.kubernetes;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1Pod;

import dev.ferry.Threads;
import dev.ferry.cull.Leadership;

/**
 * On the leading replica: removes build Jobs that finished longer ago than {@code ttl-after-finished} (for clusters
 * without the TTL controller) or ran past the build timeout, session Pods that failed or finished, and session Pods that
 * never became ready within twice the launch timeout (a launch that died with its replica). A Pod that has been Ready
 * and is not now (its server too busy to answer the probe) is left alone.
 */
final class KubeJanitor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KubeJanitor.class);

    private final KubeApi api;
    private final KubeState state;
    private final Leadership leadership;
    private final KubernetesBuilder builder;
    private final KubernetesSessionRuntime launcher;
    private final Duration jobTtl;
    private final Duration buildTimeout;
    private final Duration launchTimeout;
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("ferry-janitor"));

    KubeJanitor(
            KubeApi api,
            KubeState state,
            Leadership leadership,
            KubernetesBuilder builder,
            KubernetesSessionRuntime launcher,
            Duration jobTtl,
            Duration buildTimeout,
            Duration launchTimeout) {
        this.api = api;
        this.state = state;
        this.leadership = leadership;
        this.builder = builder;
        this.launcher = launcher;
        this.jobTtl = jobTtl;
        this.buildTimeout = buildTimeout;
        this.launchTimeout = launchTimeout;
    }

    void start(Duration every) {
        timer.scheduleWithFixedDelay(
                () -> {
                    try {
                        if (leadership.isLeader() && state.synced()) {
                            sweep(OffsetDateTime.now());
                        }
                    } catch (RuntimeException e) {
                        log.warn("cleaning up failed", e);
                    }
                },
                every.toMillis(),
                every.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** One sweep at {@code now}; returns how many objects it removed. */
    int sweep(OffsetDateTime now) {
        int removed = 0;
        for (V1Job job : state.jobs()) {
            OffsetDateTime created = job.getMetadata().getCreationTimestamp();
            OffsetDateTime finished =
                    job.getStatus() == null ? null : job.getStatus().getCompletionTime();
            if (finished == null
                    && KubernetesBuilder.outcome(job) != null
                    && job.getStatus().getConditions() != null) {
                finished = job.getStatus().getConditions().stream()
                        .map(c -> c.getLastTransitionTime())
                        .filter(Objects::nonNull)
                        .max(OffsetDateTime::compareTo)
                        .orElse(created);
            }
            boolean stale = finished != null
                    ? finished.plus(jobTtl).isBefore(now)
                    : created != null
                            && created.plus(buildTimeout).plusMinutes(5).isBefore(now);
            if (stale) {
                log.info(
                        "removing build job {} ({})",
                        job.getMetadata().getName(),
                        finished != null ? "finished" : "past the build timeout");
                builder.deleteJob(job.getMetadata().getName());
                removed++;
            }
        }
        for (V1Pod pod : state.pods()) {
            var labels = pod.getMetadata().getLabels();
            if (labels == null
                    || !Labels.SESSION_COMPONENT.equals(labels.get(Labels.COMPONENT))
                    || pod.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            String failure = KubernetesSessionRuntime.failure(pod);
            OffsetDateTime created = pod.getMetadata().getCreationTimestamp();
            String id = labels.get(Labels.SESSION);
            // a Pod that was Ready once is a user's session, perhaps busy: only the culler ends it, never this sweep
            boolean neverReady = !KubernetesSessionRuntime.runningAndReady(pod)
                    && !KubernetesSessionRuntime.becameReady(pod)
                    && created != null
                    && created.plus(launchTimeout.multipliedBy(2)).isBefore(now)
                    && !launcher.isStarting(id);
            if (failure != null || neverReady) {
                log.info(
                        "removing session pod {}: {}",
                        pod.getMetadata().getName(),
                        failure != null ? failure : "it never became ready");
                try {
                    api.core()
                            .deleteNamespacedPod(pod.getMetadata().getName(), api.sessionsNamespace)
                            .execute();
                    removed++;
                } catch (ApiException e) {
                    if (e.getCode() != 404) {
                        log.warn("removing pod {} failed: {}", pod.getMetadata().getName(), KubeApi.describe(e));
                    }
                }
            }
        }
        return removed;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
