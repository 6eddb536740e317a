package dev.ferry.platform.kubernetes;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Pod;

import dev.ferry.Threads;
import dev.ferry.capacity.Capacity;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.RouteTable;
import dev.ferry.session.Session;
import dev.ferry.session.SessionService;
import dev.ferry.session.SessionSpec;

/**
 * Sessions shared by the portal replicas: each replica adopts every running session Pod it sees (after a restart, and
 * those another replica started), so that any replica proxies any session; activity its proxy sees is written to the
 * Pod's {@code ferry.dev/last-activity} annotation at a coarse interval, and activity other replicas wrote is read back,
 * so that the one culler decides on all of it.
 */
final class KubeSessions implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KubeSessions.class);
    private static final Pattern SESSION_ID = Pattern.compile("[a-z2-7]{32}");
    /** How many session Pods the proxy's misses may read from the API server at once. */
    private static final int LOOKUPS = 4;

    private final KubeApi api;
    private final KubeState state;
    private final KubernetesSessionRuntime launcher;
    private final SessionService sessions;
    private final Capacity capacity;
    private final Duration flushEvery;
    private final Map<String, Long> flushed = new ConcurrentHashMap<>();
    /** Reads of session Pods the informer does not hold yet, running now (see {@link #resolve}). */
    private final Semaphore lookups = new Semaphore(LOOKUPS);

    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("ferry-activity-flush"));

    KubeSessions(
            KubeApi api,
            KubeState state,
            KubernetesSessionRuntime launcher,
            SessionService sessions,
            Capacity capacity,
            RouteTable routes,
            Duration flushEvery) {
        this.api = api;
        this.state = state;
        this.launcher = launcher;
        this.sessions = sessions;
        this.capacity = capacity;
        this.flushEvery = flushEvery;
        state.onPods(this::seen, pod -> {
            SessionSpec spec = SessionPods.specOf(pod);
            if (spec != null) {
                flushed.remove(spec.id());
            }
        });
        routes.setResolver(this::resolve);
    }

    void start() {
        long every = Math.max(200, flushEvery.toMillis());
        timer.scheduleWithFixedDelay(this::flushSafely, every, every, TimeUnit.MILLISECONDS);
    }

    private void seen(V1Pod pod) {
        SessionSpec spec = SessionPods.specOf(pod);
        if (spec == null) {
            return;
        }
        var known = sessions.find(spec.id());
        if (known.isPresent()) {
            Session session = known.get();
            // the Pod says whose a pool session is once a replica handed it over; while it still says "pooled", a
            // hand-over of this replica's own may be on its way, so that is not taken back
            if (spec.membership() != null
                    && !spec.membership().pooled()
                    && !spec.membership().equals(session.membership())) {
                session.membershipSeen(spec.membership());
            }
            Instant activity = SessionPods.instant(pod, Labels.A_LAST_ACTIVITY, null);
            if (activity != null) {
                session.activitySeenAt(activity.toEpochMilli());
            }
            return;
        }
        adopt(pod, spec);
    }

    private Session adopt(V1Pod pod, SessionSpec spec) {
        if (launcher.isStarting(spec.id())) {
            return null; // this replica is starting it; the launch registers it
        }
        if (KubernetesSessionRuntime.annotation(pod, Labels.A_END_REASON) != null) {
            return null; // being stopped (the end reason is written just before the delete): not to be taken up again
        }
        KubernetesSessionRuntime.PodServer server = launcher.serverFor(pod);
        if (server == null) {
            return null;
        }
        Instant created = SessionPods.instant(pod, Labels.A_CREATED, Instant.now());
        Instant activity = SessionPods.instant(pod, Labels.A_LAST_ACTIVITY, created);
        Capacity.Seat seat = capacity.occupy(
                spec.repo().repoUrl(),
                spec.membership() == null ? null : spec.membership().workshop());
        return sessions.adopt(spec, server, created, activity.toEpochMilli(), seat::release);
    }

    /**
     * The proxy asks for a session it has no route for — typically one another replica started a moment ago, before
     * this replica's informer delivered its Pod: the Pod is adopted at once and its route returned. When the informer
     * does not hold the Pod yet, it is read from the API server; at most {@link #LOOKUPS} such reads run at a time
     * (a stranger asking for made-up session ids costs the API server little), and a miss beyond them is a miss.
     */
    private Route resolve(String sessionId) {
        if (!SESSION_ID.matcher(sessionId).matches()) {
            return null;
        }
        V1Pod pod = state.pod(Labels.podName(sessionId));
        if (pod == null) {
            pod = read(Labels.podName(sessionId));
        }
        SessionSpec spec = pod == null ? null : SessionPods.specOf(pod);
        if (spec == null || !sessionId.equals(spec.id())) {
            return null;
        }
        Session adopted = adopt(pod, spec);
        return adopted == null ? null : adopted.route();
    }

    /** The session Pod as the API server has it now, or null (none, too many reads at once, or the API failed). */
    private V1Pod read(String name) {
        if (!lookups.tryAcquire()) {
            return null;
        }
        try {
            return api.core().readNamespacedPod(name, api.sessionsNamespace).execute();
        } catch (ApiException e) {
            if (e.getCode() != 404) {
                log.warn("reading session Pod {} failed: {}", name, KubeApi.describe(e));
            }
            return null;
        } finally {
            lookups.release();
        }
    }

    private void flushSafely() {
        try {
            flush();
        } catch (RuntimeException e) {
            log.warn("writing session activity failed", e);
        }
    }

    /** Writes each session's last activity to its Pod when it is newer than what the Pod says. */
    void flush() {
        for (Session s : sessions.sessions()) {
            long activity = s.lastActivity().toEpochMilli();
            Long last = flushed.get(s.id());
            if (last != null && activity <= last) {
                continue;
            }
            V1Pod pod = state.pod(Labels.podName(s.id()));
            if (pod == null) {
                continue;
            }
            Instant recorded = SessionPods.instant(pod, Labels.A_LAST_ACTIVITY, Instant.EPOCH);
            if (activity <= recorded.toEpochMilli()) {
                flushed.put(s.id(), activity);
                continue;
            }
            String value = Instant.ofEpochMilli(activity).toString();
            String patch = "{\"metadata\":{\"annotations\":{\"" + Labels.A_LAST_ACTIVITY + "\":\"" + value + "\"}}}";
            try {
                api.mergePatchPod(pod.getMetadata().getName(), patch);
                flushed.put(s.id(), activity);
            } catch (ApiException e) {
                if (e.getCode() != 404) {
                    log.warn("session {}: writing its activity failed: {}", s.id(), KubeApi.describe(e));
                }
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
