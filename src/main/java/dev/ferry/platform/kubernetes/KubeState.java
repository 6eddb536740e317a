package dev.ferry.platform.kubernetes;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.CoreV1EventList;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ConfigMapList;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobList;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodList;
import io.kubernetes.client.util.CallGenerator;

/**
 * What the cluster holds of Ferry's, as this portal replica sees it: informers (list, then watch) on Ferry's Pods
 * (by label, in the sessions' and the builds' namespace), Jobs (builds' namespace), workshop ConfigMaps (Ferry's own
 * namespace) and on the events of the sessions' and builds' namespaces. Every replica derives its routes and builds from here; nothing is
 * kept only in memory. Waiting code is woken on every change instead of polling the API.
 */
final class KubeState implements AutoCloseable {

    private final KubeApi api;
    private final SharedInformerFactory factory;
    /** The builds' namespace's informers: a factory keeps one informer per type, and Pods and events come twice. */
    private final SharedInformerFactory buildsFactory;
    /** Session Pods (and build Pods too, when both share a namespace). */
    private final SharedIndexInformer<V1Pod> pods;
    /** Build Pods, when builds have a namespace of their own; else {@link #pods}. */
    private final SharedIndexInformer<V1Pod> buildPods;

    private final SharedIndexInformer<V1Job> jobs;
    private final SharedIndexInformer<CoreV1Event> events;
    /** The builds' namespace's events, when it is not the sessions'; else {@link #events}. */
    private final SharedIndexInformer<CoreV1Event> buildEvents;

    private final SharedIndexInformer<V1ConfigMap> workshops;
    private final Object changed = new Object();
    private final PacedListerWatcher.Outage outage = new PacedListerWatcher.Outage();

    KubeState(KubeApi api) {
        this(api, Duration.ofSeconds(30));
    }

    /** {@code maxRetryDelay}: the longest wait between two attempts to list or watch while the API server fails. */
    KubeState(KubeApi api, Duration maxRetryDelay) {
        this.api = api;
        this.factory = new SharedInformerFactory(api.streaming);
        this.buildsFactory = new SharedInformerFactory(api.streaming);
        CoreV1Api core = api.coreStreaming();
        BatchV1Api batch = new BatchV1Api(api.streaming);
        String ns = api.namespace;
        String sessionsNs = api.sessionsNamespace;
        String buildsNs = api.buildsNamespace;
        boolean shared = sessionsNs.equals(buildsNs);
        pods = podInformer(factory, core, sessionsNs, maxRetryDelay);
        buildPods = shared ? pods : podInformer(buildsFactory, core, buildsNs, maxRetryDelay);
        jobs = informer(
                factory,
                p -> batch.listNamespacedJob(buildsNs)
                        .labelSelector(Labels.SESSIONS_SELECTOR)
                        .resourceVersion(p.resourceVersion)
                        .timeoutSeconds(p.timeoutSeconds)
                        .watch(p.watch)
                        .buildCall(null),
                V1Job.class,
                V1JobList.class,
                maxRetryDelay);
        events = eventInformer(factory, core, sessionsNs, maxRetryDelay);
        buildEvents = shared ? events : eventInformer(buildsFactory, core, buildsNs, maxRetryDelay);
        workshops = informer(
                factory,
                p -> core.listNamespacedConfigMap(ns)
                        .labelSelector(Labels.WORKSHOPS_SELECTOR)
                        .resourceVersion(p.resourceVersion)
                        .timeoutSeconds(p.timeoutSeconds)
                        .watch(p.watch)
                        .buildCall(null),
                V1ConfigMap.class,
                V1ConfigMapList.class,
                maxRetryDelay);
        pods.addEventHandler(waker());
        jobs.addEventHandler(waker());
        events.addEventHandler(waker());
        if (!shared) {
            buildPods.addEventHandler(waker());
            buildEvents.addEventHandler(waker());
        }
    }

    private SharedIndexInformer<V1Pod> podInformer(
            SharedInformerFactory f, CoreV1Api core, String namespace, Duration maxRetryDelay) {
        return informer(
                f,
                p -> core.listNamespacedPod(namespace)
                        .labelSelector(Labels.SESSIONS_SELECTOR)
                        .resourceVersion(p.resourceVersion)
                        .timeoutSeconds(p.timeoutSeconds)
                        .watch(p.watch)
                        .buildCall(null),
                V1Pod.class,
                V1PodList.class,
                maxRetryDelay);
    }

    private SharedIndexInformer<CoreV1Event> eventInformer(
            SharedInformerFactory f, CoreV1Api core, String namespace, Duration maxRetryDelay) {
        return informer(
                f,
                p -> core.listNamespacedEvent(namespace)
                        .resourceVersion(p.resourceVersion)
                        .timeoutSeconds(p.timeoutSeconds)
                        .watch(p.watch)
                        .buildCall(null),
                CoreV1Event.class,
                CoreV1EventList.class,
                maxRetryDelay);
    }

    private <T extends KubernetesObject> ResourceEventHandler<T> waker() {
        return handler(o -> wake(), o -> wake());
    }

    /** A handler that calls {@code seen} with each object added or changed, {@code gone} with each one deleted. */
    private static <T extends KubernetesObject> ResourceEventHandler<T> handler(Consumer<T> seen, Consumer<T> gone) {
        return new ResourceEventHandler<T>() {
            @Override
            public void onAdd(T o) {
                seen.accept(o);
            }

            @Override
            public void onUpdate(T old, T o) {
                seen.accept(o);
            }

            @Override
            public void onDelete(T o, boolean unknown) {
                gone.accept(o);
            }
        };
    }

    /** An informer whose list and watch back off while the API server fails (client-java alone retries every second). */
    private <T extends KubernetesObject, L extends KubernetesListObject> SharedIndexInformer<T> informer(
            SharedInformerFactory f, CallGenerator calls, Class<T> type, Class<L> listType, Duration maxRetryDelay) {
        return f.sharedIndexInformerFor(
                new PacedListerWatcher<>(api.streaming, calls, type, listType, outage, maxRetryDelay),
                type,
                0,
                outage::remember);
    }

    void start() {
        factory.startAllRegisteredInformers();
        buildsFactory.startAllRegisteredInformers(); // none when builds share the sessions' namespace
    }

    boolean synced() {
        return pods.hasSynced()
                && buildPods.hasSynced()
                && jobs.hasSynced()
                && events.hasSynced()
                && buildEvents.hasSynced()
                && workshops.hasSynced();
    }

    /** Waits up to {@code timeout} for the first full listing; false if the API did not answer in time. */
    boolean awaitSynced(Duration timeout) {
        return await(() -> synced() ? Boolean.TRUE : null, timeout) != null;
    }

    String namespace() {
        return api.namespace;
    }

    /** A session Pod by name. */
    V1Pod pod(String name) {
        return pods.getIndexer().getByKey(api.sessionsNamespace + "/" + name);
    }

    /** Ferry's Pods: sessions' and builds'. */
    List<V1Pod> pods() {
        if (buildPods == pods) {
            return pods.getIndexer().list();
        }
        List<V1Pod> all = new ArrayList<>(pods.getIndexer().list());
        all.addAll(buildPods.getIndexer().list());
        return all;
    }

    V1Job job(String name) {
        return jobs.getIndexer().getByKey(api.buildsNamespace + "/" + name);
    }

    List<V1Job> jobs() {
        return jobs.getIndexer().list();
    }

    /** The ConfigMaps that keep workshops. */
    List<V1ConfigMap> workshops() {
        return workshops.getIndexer().list();
    }

    /** The pods of a build Job. */
    List<V1Pod> buildPods(String jobName) {
        return buildPods.getIndexer().list().stream()
                .filter(p -> p.getMetadata().getLabels() != null
                        && jobName.equals(p.getMetadata().getLabels().get(Labels.BUILD)))
                .toList();
    }

    /** Events about one object, oldest first. */
    List<CoreV1Event> eventsFor(String kind, String name) {
        Stream<CoreV1Event> all = buildEvents == events
                ? events.getIndexer().list().stream()
                : Stream.concat(events.getIndexer().list().stream(), buildEvents.getIndexer().list().stream());
        return all.filter(e -> e.getInvolvedObject() != null
                        && name.equals(e.getInvolvedObject().getName())
                        && kind.equals(e.getInvolvedObject().getKind()))
                .sorted(Comparator.comparing(KubeState::eventTime))
                .toList();
    }

    static OffsetDateTime eventTime(CoreV1Event e) {
        if (e.getLastTimestamp() != null) {
            return e.getLastTimestamp();
        }
        if (e.getEventTime() != null) {
            return e.getEventTime();
        }
        return e.getMetadata() != null && e.getMetadata().getCreationTimestamp() != null
                ? e.getMetadata().getCreationTimestamp()
                : OffsetDateTime.MIN;
    }

    /** Changes of session Pods (and of build Pods when they share the namespace: handlers filter by component). */
    /** Calls {@code seen} with each session Pod added or changed, {@code gone} with each one deleted. */
    void onPods(Consumer<V1Pod> seen, Consumer<V1Pod> gone) {
        pods.addEventHandler(handler(seen, gone));
    }

    /** The last watch failure in the last minute, or null. */
    String recentError() {
        return outage.recentError();
    }

    private void wake() {
        synchronized (changed) {
            changed.notifyAll();
        }
    }

    /**
     * Evaluates {@code condition} now and after every change the informers see (at least every second), until it gives
     * a value or {@code timeout} passes (then null).
     */
    <T> T await(Supplier<T> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = condition.get();
            if (value != null) {
                return value;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            synchronized (changed) {
                try {
                    changed.wait(Math.max(1, Math.min(1000, left / 1_000_000)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
    }

    /** Wakes waiters without a change (e.g. a build was cancelled). */
    void poke() {
        wake();
    }

    @Override
    public void close() {
        factory.stopAllRegisteredInformers(true);
        buildsFactory.stopAllRegisteredInformers(true);
    }
}
