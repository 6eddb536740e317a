package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.ApiException;

import dev.ferry.workshop.WorkshopStore;

/**
 * The portal's requests against the API double that enforces the Role of {@code deploy/} as a real API server does
 * (403 for anything else). The whole platform runs against it in {@link KubernetesPlatformTest}; here the requests a
 * short test cannot reach there (the sweep of long-ended workshops) and the double's refusal itself.
 */
class PortalPermissionsTest {

    private KubeApiDouble double_;
    private KubeApi api;

    @BeforeEach
    void start() throws Exception {
        double_ = new KubeApiDouble();
        api = new KubeApi(KubeApiDouble.NAMESPACE, double_.portalClient(), double_.portalClient());
    }

    @AfterEach
    void stop() {
        double_.close();
    }

    @Test
    void theLeaderMayDeleteTheConfigMapOfAWorkshopThatEndedLongAgo() {
        KubeWorkshops store = new KubeWorkshops(api, null, null);
        var repo = BuildJobsTest.repo("https://example.org/org/repo.git");
        Instant start = Instant.parse("2026-01-01T09:00:00Z");
        WorkshopStore.Stored workshop = new WorkshopStore.Stored(
                "old-one",
                "Old",
                repo,
                start,
                start.plusSeconds(3600),
                3,
                1,
                "https://ferry.example.org",
                start.plusSeconds(3600),
                0);
        assertThat(store.add(workshop)).isTrue();
        store.ended(workshop);

        store.forget(workshop);

        assertThat(double_.fabric8()
                        .configMaps()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withName("ferry-workshop-old-one")
                        .get())
                .as("the ConfigMap of a long-ended workshop is deleted, not left to pile up")
                .isNull();
        assertThat(double_.rules.refused).as("requests the Role refused").isEmpty();
        assertThat(double_.rules.used()).contains("create /configmaps", "patch /configmaps", "delete /configmaps");
    }

    @Test
    void aRequestTheRoleDoesNotGrantIsRefusedWith403AsByARealServer() {
        var secrets = api.core().readNamespacedSecret("ferry-registry-push", KubeApiDouble.NAMESPACE);

        ApiException refused = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class, secrets::execute);

        assertThat(refused.getCode()).isEqualTo(403);
        assertThat(KubeApi.describe(refused))
                .isEqualTo("the Kubernetes API answered 403: secrets \"ferry-registry-push\" is "
                        + "forbidden: User \"system:serviceaccount:ferry-test:ferry\" cannot get resource \"secrets\" in API group \"\" "
                        + "in the namespace \"ferry-test\"");
    }

    /** The RuntimeClass admission plugin's rule (Kubernetes 1.30 and older), so that a regression of #19.1 fails here. */
    @Test
    void aPodWithOverheadButNoRuntimeClassIsRefusedAsByTheAdmissionPlugin() {
        var pod = new io.kubernetes.client.openapi.models.V1Pod()
                .apiVersion("v1")
                .kind("Pod")
                .metadata(new io.kubernetes.client.openapi.models.V1ObjectMeta().name("with-overhead"))
                .spec(new io.kubernetes.client.openapi.models.V1PodSpec()
                        .overhead(new java.util.HashMap<>())
                        .containers(List.of(new io.kubernetes.client.openapi.models.V1Container()
                                .name("c")
                                .image("busybox"))));

        ApiException refused = org.junit.jupiter.api.Assertions.assertThrows(
                ApiException.class,
                () -> api.core()
                        .createNamespacedPod(KubeApiDouble.NAMESPACE, pod)
                        .execute());

        assertThat(refused.getCode()).isEqualTo(403);
        assertThat(KubeApi.describe(refused))
                .isEqualTo("the Kubernetes API answered 403: pods \"with-overhead\" is forbidden: "
                        + "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead");
        assertThat(double_.fabric8()
                        .pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withName("with-overhead")
                        .get())
                .isNull();
    }
}
