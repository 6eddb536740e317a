package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Event;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

import dev.ferry.build.ImageKey;

/**
 * The API double refuses what a real API server refuses and stores what it stores: strict decoding against the API's
 * schema, the server's defaults, RBAC of {@code deploy/}, the RuntimeClass overhead rule, Pod Security admission by the
 * namespace's label, the Job controller's {@code FailedCreate}, and watches that expire with 410 Gone. Each rule is
 * shown here refusing (or keeping) a request, so that the Kubernetes tests that run against the double can rely on it.
 */
class KubeApiDoubleTest {

    private static final String NS = KubeApiDouble.NAMESPACE;
    private static final String RESTRICTED_PLAIN_POD =
            "pods \"plain\" is forbidden: violates PodSecurity \"restricted:latest\": "
                    + "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), "
                    + "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), "
                    + "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), "
                    + "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")";

    private KubeApiDouble double_;
    private ApiClient client;
    private KubeApi api;

    @BeforeEach
    void start() throws Exception {
        double_ = new KubeApiDouble();
        client = double_.portalClient();
        ApiClient streaming = double_.portalClient();
        streaming.setHttpClient(streaming
                .getHttpClient()
                .newBuilder()
                .readTimeout(Duration.ZERO)
                .build());
        api = new KubeApi(NS, client, streaming);
    }

    @AfterEach
    void stop() {
        double_.close();
    }

    /** Sends {@code json} as the portal would (through its HTTP client), and answers the status code and body. */
    private Answer send(String method, String path, String contentType, String json) throws Exception {
        Request request = new Request.Builder()
                .url(double_.url() + path)
                .method(method, RequestBody.create(json, MediaType.get(contentType)))
                .build();
        try (Response response = client.getHttpClient().newCall(request).execute()) {
            return new Answer(response.code(), response.body().string());
        }
    }

    record Answer(int code, String body) {
        String message() {
            return tools.jackson.databind.json.JsonMapper.builder()
                    .build()
                    .readTree(body)
                    .path("message")
                    .asString();
        }
    }

    private static V1Pod plainPod(String name, String image) {
        return new V1Pod()
                .apiVersion("v1")
                .kind("Pod")
                .metadata(new V1ObjectMeta().name(name))
                .spec(new V1PodSpec()
                        .overhead(null)
                        .containers(List.of(new V1Container().name("c").image(image))));
    }

    @Test
    void aBodyWithAFieldTheApiDoesNotHaveIsRefusedWithTheStrictDecodersWords() throws Exception {
        String pods = "/api/v1/namespaces/" + NS + "/pods";

        Answer unknown = send(
                "POST",
                pods,
                "application/json",
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                        + "{\"name\":\"x\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\"}],\"foo\":{}}}");
        Answer misplaced = send(
                "POST",
                pods,
                "application/json",
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                        + "{\"name\":\"x\"},\"spec\":{\"imagePullPolicy\":\"Always\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\","
                        + "\"securityContext\":{\"runAsNonRoot\":true,\"seccompProfile\":{\"type\":\"RuntimeDefault\"},\"fsGroup\":1000}}]}}");
        Answer wrongType = send(
                "POST",
                pods,
                "application/json",
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                        + "{\"name\":\"x\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\",\"ports\":"
                        + "[{\"containerPort\":\"8888\"}]}]}}");
        api.core().createNamespacedPod(NS, plainPod("y", "busybox:1.36")).execute();
        Answer patch = send(
                "PATCH", pods + "/y", "application/merge-patch+json", "{\"metadata\":{\"annotation\":{\"a\":\"b\"}}}");

        assertThat(unknown.code()).isEqualTo(400);
        assertThat(unknown.message())
                .isEqualTo("Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: "
                        + "unknown field \"spec.foo\"");
        assertThat(misplaced.code()).isEqualTo(400);
        assertThat(misplaced.message())
                .isEqualTo(
                        "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: "
                                + "unknown field \"spec.imagePullPolicy\", unknown field \"spec.containers[0].securityContext.fsGroup\"");
        assertThat(wrongType.code()).isEqualTo(400);
        assertThat(wrongType.message())
                .isEqualTo(
                        "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal "
                                + "string into Go struct field v1.ContainerPort.spec.containers.ports.containerPort of type int32");
        assertThat(patch.code()).isEqualTo(400);
        assertThat(patch.message()).isEqualTo("strict decoding error: unknown field \"metadata.annotation\"");
        assertThat(double_.fabric8().pods().inNamespace(NS).withName("x").get()).isNull();
    }

    @Test
    void ferrysOwnPodAndJobDecodeStrictlyAndComeBackWithTheServersDefaults() throws Exception {
        V1Pod session = new SessionPods(SessionPodsTest.session(List.of())).pod(SessionPodsTest.spec(), Instant.now());
        var repo = BuildJobsTest.repo("https://example.org/org/repo.git");
        V1Job build = new BuildJobs(
                        BuildJobsTest.build(""),
                        new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                        BuildJobsTest.repoProperties())
                .job("ferry-build-x", repo, ImageKey.of(repo), 3600);

        api.core().createNamespacedPod(NS, session).execute();
        new io.kubernetes.client.openapi.apis.BatchV1Api(client)
                .createNamespacedJob(NS, build)
                .execute();
        api.core().createNamespacedPod(NS, plainPod("untagged", "busybox")).execute();
        api.core()
                .createNamespacedPod(NS, plainPod("latest", "registry.example.org:5000/tools/busybox:latest"))
                .execute();
        api.core()
                .createNamespacedPod(NS, plainPod("tagged", "registry.example.org:5000/tools/busybox"))
                .execute();

        var stored = double_.fabric8()
                .pods()
                .inNamespace(NS)
                .withName(session.getMetadata().getName())
                .get()
                .getSpec();
        assertThat(stored.getContainers().get(0).getImagePullPolicy()).isEqualTo("IfNotPresent"); // as Ferry set it
        assertThat(stored.getContainers().get(0).getTerminationMessagePath()).isEqualTo("/dev/termination-log");
        assertThat(stored.getContainers().get(0).getTerminationMessagePolicy()).isEqualTo("File");
        assertThat(stored.getRestartPolicy()).isEqualTo("Never");
        assertThat(stored.getDnsPolicy()).isEqualTo("ClusterFirst");
        assertThat(stored.getServiceAccountName()).isEqualTo("default");
        assertThat(stored.getContainers().get(0).getPorts().get(0).getProtocol())
                .isEqualTo("TCP");
        assertThat(stored.getContainers().get(0).getReadinessProbe().getSuccessThreshold())
                .isEqualTo(1);
        assertThat(pullPolicy("untagged")).isEqualTo("Always");
        assertThat(pullPolicy("latest")).isEqualTo("Always");
        assertThat(pullPolicy("tagged")).as("a registry's port is no tag").isEqualTo("Always");
        assertThat(double_.fabric8()
                        .pods()
                        .inNamespace(NS)
                        .withName("untagged")
                        .get()
                        .getSpec()
                        .getRestartPolicy())
                .isEqualTo("Always");
        var job = double_.fabric8()
                .batch()
                .v1()
                .jobs()
                .inNamespace(NS)
                .withName("ferry-build-x")
                .get();
        assertThat(job.getSpec().getBackoffLimit()).as("as Ferry set it").isZero();
        assertThat(job.getSpec().getCompletions()).isEqualTo(1);
        assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getTerminationMessagePath())
                .isEqualTo("/dev/termination-log");
    }

    private String pullPolicy(String pod) {
        return double_.fabric8()
                .pods()
                .inNamespace(NS)
                .withName(pod)
                .get()
                .getSpec()
                .getContainers()
                .get(0)
                .getImagePullPolicy();
    }

    @Test
    void aJobWhosePodsWouldRestartIsInvalid() {
        V1Job job = new V1Job()
                .apiVersion("batch/v1")
                .kind("Job")
                .metadata(new V1ObjectMeta().name("restarts"))
                .spec(new io.kubernetes.client.openapi.models.V1JobSpec()
                        .template(new io.kubernetes.client.openapi.models.V1PodTemplateSpec()
                                .spec(new V1PodSpec()
                                        .overhead(null)
                                        .containers(List.of(
                                                new V1Container().name("c").image("busybox:1.36"))))));

        ApiException refused = assertThrows(
                ApiException.class,
                () -> new io.kubernetes.client.openapi.apis.BatchV1Api(client)
                        .createNamespacedJob(NS, job)
                        .execute());

        assertThat(refused.getCode()).isEqualTo(422);
        assertThat(KubeApi.describe(refused))
                .contains("Job.batch \"restarts\" is invalid: spec.template.spec.restartPolicy: "
                        + "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");
    }

    @Test
    void aRequestTheRoleDoesNotGrantIsRefusedEvenForAClusterScopedResource() {
        var namespace =
                new io.kubernetes.client.openapi.models.V1Namespace().metadata(new V1ObjectMeta().name("elsewhere"));

        ApiException refused = assertThrows(
                ApiException.class, () -> api.core().createNamespace(namespace).execute());

        assertThat(refused.getCode()).isEqualTo(403);
        assertThat(KubeApi.describe(refused))
                .isEqualTo(
                        "the Kubernetes API answered 403: namespaces is forbidden: User "
                                + "\"system:serviceaccount:ferry-test:ferry\" cannot create resource \"namespaces\" in API group \"\" at the cluster scope");
    }

    @Test
    void aPodThatBreaksRestrictedIsRefusedInARestrictedNamespaceAndFerrysSessionPodIsNot() throws Exception {
        V1Pod session = new SessionPods(SessionPodsTest.session(List.of())).pod(SessionPodsTest.spec(), Instant.now());
        api.core().createNamespacedPod(NS, plainPod("before", "busybox:1.36")).execute(); // no label: privileged

        double_.namespace(NS, Map.of(PodSecurity.ENFORCE, "restricted"));
        ApiException refused = assertThrows(
                ApiException.class,
                () -> api.core()
                        .createNamespacedPod(NS, plainPod("plain", "busybox:1.36"))
                        .execute());
        api.core().createNamespacedPod(NS, session).execute();

        assertThat(refused.getCode()).isEqualTo(403);
        assertThat(new Answer(refused.getCode(), refused.getResponseBody()).message())
                .isEqualTo(RESTRICTED_PLAIN_POD);
        assertThat(double_.fabric8().pods().inNamespace(NS).withName("plain").get())
                .isNull();
        assertThat(double_.fabric8()
                        .pods()
                        .inNamespace(NS)
                        .withName(session.getMetadata().getName())
                        .get())
                .as("Ferry's session Pod meets restricted")
                .isNotNull();

        double_.namespace(NS, Map.of(PodSecurity.ENFORCE, "baseline"));
        api.core().createNamespacedPod(NS, plainPod("plain", "busybox:1.36")).execute(); // baseline allows it
    }

    /** A regression of Ferry's session Pod — here its container allowed to escalate and keep its capabilities — is refused. */
    @Test
    void aSessionPodThatBreaksRestrictedIsRefusedNamingItsContainer() {
        V1Pod session = new SessionPods(SessionPodsTest.session(List.of())).pod(SessionPodsTest.spec(), Instant.now());
        session.getSpec()
                .getContainers()
                .get(0)
                .getSecurityContext()
                .allowPrivilegeEscalation(null)
                .capabilities(null);
        double_.namespace(NS, Map.of(PodSecurity.ENFORCE, "restricted"));

        ApiException refused = assertThrows(
                ApiException.class,
                () -> api.core().createNamespacedPod(NS, session).execute());

        assertThat(refused.getCode()).isEqualTo(403);
        assertThat(new Answer(refused.getCode(), refused.getResponseBody()).message())
                .isEqualTo(
                        "pods \""
                                + session.getMetadata().getName()
                                + "\" is forbidden: violates PodSecurity \"restricted:latest\": "
                                + "allowPrivilegeEscalation != false (container \"notebook\" must set securityContext.allowPrivilegeEscalation=false), "
                                + "unrestricted capabilities (container \"notebook\" must set securityContext.capabilities.drop=[\"ALL\"])");
    }

    /** client-java's default {@code "overhead":{}} on Ferry's own session Pod: refused as by the RuntimeClass plugin. */
    @Test
    void aSessionPodSentWithAnEmptyOverheadIsRefused() {
        V1Pod session = new SessionPods(SessionPodsTest.session(List.of())).pod(SessionPodsTest.spec(), Instant.now());
        session.getSpec().overhead(new java.util.HashMap<>());

        ApiException refused = assertThrows(
                ApiException.class,
                () -> api.core().createNamespacedPod(NS, session).execute());

        assertThat(refused.getCode()).isEqualTo(403);
        assertThat(new Answer(refused.getCode(), refused.getResponseBody()).message())
                .isEqualTo("pods \""
                        + session.getMetadata().getName()
                        + "\" is forbidden: pod rejected: Pod Overhead set without corresponding "
                        + "RuntimeClass defined Overhead");
    }

    @Test
    void theJobControllersPodGoesThroughAdmissionAndARefusalIsAFailedCreateEventOnTheJob() throws Exception {
        var repo = BuildJobsTest.repo("https://example.org/org/repo.git");
        V1Job build = new BuildJobs(
                        BuildJobsTest.build(""),
                        new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                        BuildJobsTest.repoProperties())
                .job("ferry-build-restricted", repo, ImageKey.of(repo), 3600);
        // (an empty "overhead":{} in a template is not kept: the API server stores no empty map, so the controller's
        // Pod
        // has none; an overhead with a value is kept, and refused)
        V1Job overhead = new V1Job()
                .apiVersion("batch/v1")
                .kind("Job")
                .metadata(new V1ObjectMeta().name("with-overhead"))
                .spec(new io.kubernetes.client.openapi.models.V1JobSpec()
                        .template(new io.kubernetes.client.openapi.models.V1PodTemplateSpec()
                                .spec(new V1PodSpec()
                                        .overhead(Map.of("cpu", new io.kubernetes.client.custom.Quantity("100m")))
                                        .restartPolicy("Never")
                                        .containers(List.of(
                                                new V1Container().name("c").image("busybox:1.36"))))));
        double_.namespace(NS, Map.of(PodSecurity.ENFORCE, "restricted"));
        try (FakeJobController controller = new FakeJobController(double_)) {
            var batch = new io.kubernetes.client.openapi.apis.BatchV1Api(client);

            batch.createNamespacedJob(NS, build).execute(); // admission checks Pods, not the Jobs that make them
            batch.createNamespacedJob(NS, overhead).execute();

            Event buildRefused = failedCreate("ferry-build-restricted");
            assertThat(buildRefused.getType()).isEqualTo("Warning");
            assertThat(buildRefused.getMessage())
                    .matches("Error creating: pods \"ferry-build-restricted-[0-9a-f]{5}\" is forbidden: "
                            + "violates PodSecurity \"restricted:latest\": .*")
                    .contains(
                            "forbidden AppArmor profile (container \"build\" must not set AppArmor profile type to \"Unconfined\")")
                    .contains(
                            "allowPrivilegeEscalation != false (container \"build\" must set securityContext.allowPrivilegeEscalation=false)")
                    .contains(
                            "seccompProfile (container \"build\" must not set securityContext.seccompProfile.type to \"Unconfined\")")
                    .doesNotContain("\"prepare\"");
            assertThat(failedCreate("with-overhead").getMessage())
                    .matches(
                            "Error creating: pods \"with-overhead-[0-9a-f]{5}\" is "
                                    + "forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead");
            assertThat(double_.fabric8().pods().inNamespace(NS).list().getItems())
                    .isEmpty();
            assertThat(controller.podsRefused.get()).isEqualTo(2);
        }
    }

    private Event failedCreate(String job) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            var found = double_.fabric8().v1().events().inNamespace(NS).list().getItems().stream()
                    .filter(e -> job.equals(e.getInvolvedObject().getName()) && "FailedCreate".equals(e.getReason()))
                    .findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no FailedCreate event on Job " + job);
    }

    @Test
    void aWatchThatExpiresWith410EndsAndAnInformerThatListsAgainSeesWhatHappenedSince() throws Exception {
        try (KubeState state = new KubeState(api)) {
            state.start();
            assertThat(state.awaitSynced(Duration.ofSeconds(20))).isTrue();
            double_.fabric8()
                    .pods()
                    .inNamespace(NS)
                    .resource(sessionLabelled("before"))
                    .create();
            assertThat(state.await(() -> state.pod("before"), Duration.ofSeconds(10)))
                    .isNotNull();

            double_.expireWatches();
            double_.fabric8()
                    .pods()
                    .inNamespace(NS)
                    .resource(sessionLabelled("after"))
                    .create();

            assertThat(state.await(() -> state.pod("after"), Duration.ofSeconds(20)))
                    .as("a Pod created after the watch expired, seen after listing again")
                    .isNotNull();
        }
        // a watch from a resourceVersion older than the expiry answers the 410 at once, as a real server's
        Request old = new Request.Builder()
                .url(double_.url() + "/api/v1/namespaces/" + NS + "/pods?watch=true&resourceVersion=1")
                .build();
        var call = client.getHttpClient().newCall(old);
        call.timeout().timeout(10, java.util.concurrent.TimeUnit.SECONDS);
        try (Response response = call.execute()) {
            assertThat(response.body().string())
                    .contains("\"type\":\"ERROR\"")
                    .contains("\"code\":410")
                    .contains("too old resource version: 1 (");
        }
    }

    private static io.fabric8.kubernetes.api.model.Pod sessionLabelled(String name) {
        return new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels(Labels.MANAGED_BY, Labels.FERRY)
                .addToLabels(Labels.COMPONENT, "test")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("c")
                .withImage("busybox:1.36")
                .endContainer()
                .endSpec()
                .build();
    }
}
