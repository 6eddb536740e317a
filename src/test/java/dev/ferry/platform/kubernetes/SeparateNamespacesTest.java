package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;

import dev.ferry.session.SessionSpec;

/**
 * #19.13: sessions and builds in namespaces of their own ({@code ferry.kubernetes.sessions-namespace},
 * {@code builds-namespace}), as deploy/overlays/namespaces sets them up. The API double grants the portal exactly the
 * Roles that overlay renders, each in its namespace: the informers, the launcher, the builder and the janitor must each
 * work in the right one, and a request in another is refused (403) as a real API server would.
 */
class SeparateNamespacesTest {

    static final String SESSIONS = "ferry-sessions";
    static final String BUILDS = "ferry-builds";

    KubeApiDouble cluster;
    KubeApi api;
    KubeState state;
    KubernetesProperties properties;

    @BeforeEach
    void start() {
        cluster = new KubeApiDouble();
        ApiServerRules.renderedRoles("deploy/overlays/namespaces", "ferry").forEach(cluster.rules::grant);
        properties = new Binder(new MapConfigurationPropertySource(Map.of(
                        "ferry.kubernetes.api-url",
                        cluster.url(),
                        "ferry.kubernetes.namespace",
                        KubeApiDouble.NAMESPACE,
                        "ferry.kubernetes.sessions-namespace",
                        SESSIONS,
                        "ferry.kubernetes.builds-namespace",
                        BUILDS)))
                .bindOrCreate("ferry.kubernetes", KubernetesProperties.class);
        api = KubeApi.create(properties, List.of(cluster.watchBridge()));
        state = new KubeState(api, Duration.ofSeconds(2));
        state.start();
    }

    @AfterEach
    void stop() {
        if (state != null) {
            state.close();
        }
        cluster.close();
    }

    @Test
    void podsAndJobsAreWatchedCreatedAndDeletedInTheirOwnNamespaces() throws Exception {
        assertThat(state.awaitSynced(Duration.ofSeconds(20)))
                .as("informers synced with the overlay's Roles")
                .isTrue();
        var fabric8 = cluster.fabric8();
        fabric8.pods()
                .inNamespace(SESSIONS)
                .resource(sessionPod("ferry-s1", "s1"))
                .create();
        // the same labels in the portal's namespace: not a session of this installation any more
        fabric8.pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .resource(sessionPod("ferry-s2", "s2"))
                .create();
        fabric8.batch()
                .v1()
                .jobs()
                .inNamespace(BUILDS)
                .resource(new JobBuilder()
                        .withMetadata(buildMetadata("ferry-build-j1", "ferry-build-j1"))
                        .withNewSpec()
                        .withNewTemplate()
                        .withNewSpec()
                        .addNewContainer()
                        .withName("build")
                        .withImage("b")
                        .endContainer()
                        .withRestartPolicy("Never")
                        .endSpec()
                        .endTemplate()
                        .endSpec()
                        .build())
                .create();
        fabric8.pods()
                .inNamespace(BUILDS)
                .resource(new PodBuilder()
                        .withMetadata(buildMetadata("ferry-build-j1-x", "ferry-build-j1"))
                        .withNewSpec()
                        .addNewContainer()
                        .withName("build")
                        .withImage("b")
                        .endContainer()
                        .endSpec()
                        .build())
                .create();
        fabric8.v1()
                .events()
                .inNamespace(SESSIONS)
                .resource(event("e1", SESSIONS, "Pod", "ferry-s1"))
                .create();
        fabric8.v1()
                .events()
                .inNamespace(BUILDS)
                .resource(event("e2", BUILDS, "Job", "ferry-build-j1"))
                .create();

        await(
                () -> state.pod("ferry-s1") != null
                        && state.job("ferry-build-j1") != null
                        && state.buildPods("ferry-build-j1").size() == 1
                        && !state.eventsFor("Pod", "ferry-s1").isEmpty()
                        && !state.eventsFor("Job", "ferry-build-j1").isEmpty(),
                "the informers to see the sessions' and builds' objects");
        assertThat(state.pods())
                .extracting(p -> p.getMetadata().getName())
                .containsExactlyInAnyOrder("ferry-s1", "ferry-build-j1-x");
        assertThat(state.pod("ferry-s2")).isNull();

        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        KubernetesBuilder builder = new KubernetesBuilder(
                api,
                state,
                new BuildJobs(properties.build(), registry, BuildJobsTest.repoProperties(), "1"),
                registry,
                (repository, tag) -> false);
        KubernetesSessionRuntime launcher =
                new KubernetesSessionRuntime(api, state, new SessionPods(properties.session()), Duration.ofSeconds(2));

        // the janitor removes the failed session Pod where it is, and leaves the portal's namespace alone
        KubeJanitor janitor = new KubeJanitor(
                api,
                state,
                () -> true,
                builder,
                launcher,
                Duration.ofMinutes(10),
                Duration.ofHours(1),
                Duration.ofMinutes(10));
        assertThat(janitor.sweep(OffsetDateTime.now())).isEqualTo(1);
        assertThat(fabric8.pods().inNamespace(SESSIONS).withName("ferry-s1").get())
                .isNull();
        assertThat(fabric8.pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withName("ferry-s2")
                        .get())
                .isNotNull();

        builder.deleteJob("ferry-build-j1");
        assertThat(fabric8.batch()
                        .v1()
                        .jobs()
                        .inNamespace(BUILDS)
                        .withName("ferry-build-j1")
                        .get())
                .isNull();

        // a launch creates its Pod in the sessions' namespace, and deletes it there when it fails (no kubelet here)
        SessionSpec spec = SessionPodsTest.spec();
        String name = Labels.podName(spec.id());
        CompletableFuture<?> launch = CompletableFuture.runAsync(() -> launcher.start(spec, m -> {}));
        await(
                () -> fabric8.pods().inNamespace(SESSIONS).withName(name).get() != null,
                "the session Pod in " + SESSIONS);
        assertThat(fabric8.pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withName(name)
                        .get())
                .isNull();
        assertThatThrownBy(launch::join).hasRootCauseInstanceOf(dev.ferry.session.LaunchFailedException.class);
        await(
                () -> fabric8.pods().inNamespace(SESSIONS).withName(name).get() == null,
                "the failed launch's Pod deleted");

        assertThat(cluster.rules.refused)
                .as("requests the overlay's Roles do not grant in their namespace")
                .isEmpty();
        assertThat(cluster.rules.used())
                .contains(
                        "create /pods",
                        "delete /pods",
                        "create /pods",
                        "delete batch/jobs",
                        "watch /pods",
                        "watch batch/jobs",
                        "watch /events");
    }

    /** A portal whose sessions' namespace is its own is refused there: the overlay grants Pods only in ferry-sessions. */
    @Test
    void theOverlaysPortalRoleGrantsNoPodsInThePortalsNamespace() {
        KubeApi sameNamespace = new KubeApi(KubeApiDouble.NAMESPACE, api.client, api.streaming);
        assertThatThrownBy(() -> sameNamespace
                        .core()
                        .createNamespacedPod(
                                KubeApiDouble.NAMESPACE,
                                new SessionPods(properties.session())
                                        .pod(SessionPodsTest.spec(), java.time.Instant.now()))
                        .execute())
                .isInstanceOfSatisfying(
                        io.kubernetes.client.openapi.ApiException.class,
                        e -> assertThat(e.getCode()).isEqualTo(403));
    }

    private static io.fabric8.kubernetes.api.model.Pod sessionPod(String name, String id) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(Map.of(
                        Labels.MANAGED_BY,
                        Labels.FERRY,
                        Labels.COMPONENT,
                        Labels.SESSION_COMPONENT,
                        Labels.SESSION,
                        id))
                .withCreationTimestamp(OffsetDateTime.now().minusMinutes(1).toString())
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("notebook")
                .withImage("i")
                .endContainer()
                .endSpec()
                .withNewStatus()
                .withPhase("Failed")
                .endStatus()
                .build();
    }

    private static io.fabric8.kubernetes.api.model.Event event(
            String name, String namespace, String kind, String object) {
        return new EventBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .withNewInvolvedObject()
                .withKind(kind)
                .withName(object)
                .withNamespace(namespace)
                .endInvolvedObject()
                .withReason("Test")
                .withMessage("seen")
                .withLastTimestamp(OffsetDateTime.now().toString())
                .build();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    /** The metadata of a build Job or of its Pod in the builds namespace: labelled as Ferry's, of build {@code job}. */
    private static ObjectMeta buildMetadata(String name, String job) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(BUILDS)
                .withLabels(Map.of(
                        Labels.MANAGED_BY, Labels.FERRY, Labels.COMPONENT, Labels.BUILD_COMPONENT, Labels.BUILD, job))
                .build();
    }
}
