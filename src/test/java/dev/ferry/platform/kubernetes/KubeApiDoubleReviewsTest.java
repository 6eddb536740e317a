package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AuthorizationV1Api;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1ResourceAttributes;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReviewSpec;

/**
 * What the API double answers for check-cluster as a real API server does: {@code SelfSubjectAccessReview} from the
 * Role it enforces, and server-side dry run ({@code dryRun=All}) that admits or refuses and stores nothing.
 */
class KubeApiDoubleReviewsTest {

    private KubeApiDouble double_;

    @AfterEach
    void stop() {
        if (double_ != null) {
            double_.close();
        }
    }

    private boolean allowed(
            ApiClient client, String verb, String group, String resource, String subresource, String namespace)
            throws ApiException {
        var attributes = new V1ResourceAttributes()
                .verb(verb)
                .group(group)
                .resource(resource)
                .namespace(namespace);
        if (subresource != null) {
            attributes.subresource(subresource);
        }
        var review = new AuthorizationV1Api(client)
                .createSelfSubjectAccessReview(new V1SelfSubjectAccessReview()
                        .apiVersion("authorization.k8s.io/v1")
                        .kind("SelfSubjectAccessReview")
                        .spec(new V1SelfSubjectAccessReviewSpec().resourceAttributes(attributes)))
                .execute();
        return review.getStatus().getAllowed();
    }

    @Test
    void anAccessReviewIsAnsweredFromTheRoleTheDoubleEnforces() throws Exception {
        double_ = new KubeApiDouble(ApiServerRules.deployedRoleWithout("configmaps", "delete"));
        ApiClient client = double_.portalClient();
        String ns = KubeApiDouble.NAMESPACE;

        assertThat(allowed(client, "create", "", "pods", null, ns)).isTrue();
        assertThat(allowed(client, "get", "", "pods", "log", ns))
                .as("pods/log is granted")
                .isTrue();
        assertThat(allowed(client, "update", "coordination.k8s.io", "leases", null, ns))
                .isTrue();
        assertThat(allowed(client, "delete", "", "configmaps", null, ns))
                .as("the verb this Role lacks")
                .isFalse();
        assertThat(allowed(client, "get", "", "secrets", null, ns)).isFalse();
        assertThat(allowed(client, "create", "", "pods", null, "kube-system"))
                .as("another namespace")
                .isFalse();
        assertThat(allowed(client, "create", "", "pods", "exec", ns))
                .as("a subresource the Role does not grant")
                .isFalse();
        assertThat(double_.rules.refused)
                .as("asking is allowed to every user (system:basic-user)")
                .isEmpty();
    }

    @Test
    void aDryRunCreateIsAdmittedButNothingIsStored() throws Exception {
        double_ = new KubeApiDouble();
        var core = new KubeApi(KubeApiDouble.NAMESPACE, double_.portalClient(), double_.portalClient()).core();

        V1Pod answered = core.createNamespacedPod(KubeApiDouble.NAMESPACE, pod("dry", false))
                .dryRun("All")
                .execute();

        assertThat(answered.getMetadata().getName()).isEqualTo("dry");
        assertThat(answered.getMetadata().getUid()).isNotBlank();
        assertThat(double_.fabric8()
                        .pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withName("dry")
                        .get())
                .isNull();
        assertThat(double_.rules.dryRuns).containsExactly("create /pods dry");
        core.createNamespacedPod(KubeApiDouble.NAMESPACE, pod("stored", false)).execute();
        assertThat(double_.fabric8()
                        .pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withName("stored")
                        .get())
                .as("without dryRun the Pod is stored")
                .isNotNull();
    }

    @Test
    void aDryRunGoesThroughAdmissionAndRbacAsACreateWould() throws Exception {
        double_ = new KubeApiDouble();
        var core = new KubeApi(KubeApiDouble.NAMESPACE, double_.portalClient(), double_.portalClient()).core();

        ApiException overhead = assertThrows(
                ApiException.class,
                () -> core.createNamespacedPod(KubeApiDouble.NAMESPACE, pod("heavy", true))
                        .dryRun("All")
                        .execute());
        assertThat(KubeApi.describe(overhead)).contains("Pod Overhead set without corresponding RuntimeClass");

        ApiException rbac = assertThrows(
                ApiException.class,
                () -> core.createNamespacedSecret(
                                KubeApiDouble.NAMESPACE,
                                new io.kubernetes.client.openapi.models.V1Secret()
                                        .metadata(new V1ObjectMeta().name("s")))
                        .dryRun("All")
                        .execute());
        assertThat(rbac.getCode()).isEqualTo(403);

        double_.rules.denyByWebhook("pods.policy.example.org", "/pods", "images must come from registry.example.org");
        ApiException webhook = assertThrows(
                ApiException.class,
                () -> core.createNamespacedPod(KubeApiDouble.NAMESPACE, pod("denied", false))
                        .dryRun("All")
                        .execute());
        assertThat(KubeApi.describe(webhook))
                .isEqualTo("the Kubernetes API answered 403: admission webhook "
                        + "\"pods.policy.example.org\" denied the request: images must come from registry.example.org");

        assertThat(double_.fabric8()
                        .pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .list()
                        .getItems())
                .isEmpty();
        assertThat(double_.rules.dryRuns).isEmpty();
    }

    private static V1Pod pod(String name, boolean overhead) {
        V1PodSpec spec =
                new V1PodSpec().containers(List.of(new V1Container().name("c").image("registry.example.org/c:1")));
        spec.setOverhead(overhead ? new java.util.HashMap<>() : null);
        return new V1Pod()
                .apiVersion("v1")
                .kind("Pod")
                .metadata(new V1ObjectMeta().name(name))
                .spec(spec);
    }
}
