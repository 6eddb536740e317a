package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;

import dev.ferry.FerryApplication;
import dev.ferry.build.ImageKey;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.SessionSpec;
import dev.ferry.testing.ContainerEngine;

/**
 * Ferry against a real Kubernetes API server (k3s in a container), where Docker is available: the API server accepts
 * the session Pod and the build Job exactly as Ferry builds them (server-side validation, dry run), and a portal on the
 * kubernetes platform starts against it, syncs its informers, reports healthy and takes the culler's Lease.
 *
 * <p>Everything runs as the portal runs on a cluster: with a token of the {@code ferry} ServiceAccount, bound to the Role
 * {@code kubectl kustomize deploy/base} renders, in its own namespace — never with k3s' admin kubeconfig, which only sets
 * them up.
 *
 * <p>Runs wherever a container engine can pull {@code rancher/k3s} (the command is in docs/kubernetes.md); skipped, with
 * the reason, otherwise — these machines and CI have Debian's dockerd but cannot reach Docker Hub, and the pull is
 * bounded so that it never holds up the run. The full launch flow is not run here: the Pods of a k3s-in-Docker cluster are not
 * routable from the test JVM, and the session and builder images need registry access; the flow itself is covered
 * against the API double in {@link KubernetesPlatformTest}.
 */
class K3sPlatformTest {

    /** The k3s image; pulled by the engine before Testcontainers starts it. */
    static final String IMAGE = "rancher/k3s:v1.31.4-k3s1";
    /** Where the portal's objects from deploy/base go: a Role binds a ServiceAccount of its own namespace. */
    static final String NAMESPACE = "ferry";

    static K3sContainer k3s;
    static Path kubeconfig;
    static ApiClient client;

    @BeforeAll
    static void startK3s() throws Exception {
        ContainerEngine engine = ContainerEngine.require();
        // Pulled here, bounded, before Testcontainers touches Docker: without a way to the registry it retries for
        // minutes.
        if (engine.docker("image", "inspect", IMAGE).exit() != 0) {
            ContainerEngine.Result pull = engine.pull(IMAGE, Duration.ofMinutes(3));
            if (pull.exit() != 0) {
                skip("skipped: the " + IMAGE + " image cannot be pulled here (" + lastLine(pull.output()) + ")");
            }
        }
        // Testcontainers finds the engine through DOCKER_HOST, which docker-java also reads from system properties
        System.setProperty("DOCKER_HOST", engine.host());
        if (!org.testcontainers.DockerClientFactory.instance().isDockerAvailable()) {
            skip("skipped: Testcontainers cannot reach the container engine at " + engine.host());
        }
        k3s = new K3sContainer(DockerImageName.parse(IMAGE));
        try {
            k3s.start();
        } catch (RuntimeException e) {
            skip("skipped: k3s could not be started here (" + e.getMessage() + ")");
        }
        ApiClient admin;
        try (var reader = new java.io.StringReader(k3s.getKubeConfigYaml())) {
            admin = ClientBuilder.kubeconfig(KubeConfig.loadKubeConfig(reader)).build();
        }
        kubeconfig = Files.createTempFile("ferry-k3s", ".yaml");
        Files.writeString(kubeconfig, ServiceAccountKubeconfig.of(admin, k3s.getKubeConfigYaml(), NAMESPACE));
        try (var reader = Files.newBufferedReader(kubeconfig)) {
            client = ClientBuilder.kubeconfig(KubeConfig.loadKubeConfig(reader)).build();
        }
    }

    private static String lastLine(String output) {
        String s = output.strip();
        return s.substring(s.lastIndexOf('\n') + 1);
    }

    /** Skips the whole class, saying why in the build output too (surefire shows a class skipped in @BeforeAll as 0 tests). */
    private static void skip(String reason) {
        System.out.println("K3sPlatformTest " + reason);
        Assumptions.abort(reason);
    }

    @AfterAll
    static void stopK3s() throws Exception {
        if (k3s != null) {
            k3s.stop();
        }
        if (kubeconfig != null) {
            Files.deleteIfExists(kubeconfig);
        }
    }

    @Test
    void theApiServerAcceptsTheSessionPodAndTheBuildJobAsFerryBuildsThem() throws Exception {
        ResolvedRepo repo = BuildJobsTest.repo("https://example.org/org/repo.git");
        ImageKey key = ImageKey.of(repo);
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry/", "", false, "", "");
        SessionSpec spec = SessionPodsTest.spec(Map.of("BINDER_REQUEST", "v2/git/x"));
        var pod = new SessionPods(SessionPodsTest.session(List.of())).pod(spec, Instant.now());
        var job = new BuildJobs(BuildJobsTest.build("push-creds"), registry, BuildJobsTest.repoProperties())
                .job(Labels.jobName(key.id(), key.slug()), repo, key, 3600);

        var createdPod = new CoreV1Api(client)
                .createNamespacedPod(NAMESPACE, pod)
                .dryRun("All")
                .execute();
        var createdJob = new BatchV1Api(client)
                .createNamespacedJob(NAMESPACE, job)
                .dryRun("All")
                .execute();

        assertThat(createdPod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(createdPod
                        .getSpec()
                        .getContainers()
                        .get(0)
                        .getSecurityContext()
                        .getCapabilities()
                        .getDrop())
                .containsExactly("ALL");
        assertThat(createdJob.getSpec().getTemplate().getSpec().getInitContainers())
                .hasSize(1);
    }

    @Test
    void aPortalStartsAgainstTheClusterReportsHealthyAndTakesTheLease() throws Exception {
        ConfigurableApplicationContext portal = new SpringApplicationBuilder(FerryApplication.class)
                .run(
                        "--server.port=0",
                        "--ferry.platform=kubernetes",
                        "--ferry.kubernetes.kubeconfig=" + kubeconfig,
                        "--ferry.kubernetes.namespace=" + NAMESPACE,
                        "--ferry.registry.prefix=registry.example.org/ferry/",
                        "--spring.main.banner-mode=off");
        try {
            String health = "http://127.0.0.1:" + portal.getEnvironment().getProperty("local.server.port") + "/health";
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int status = 0;
            while (System.nanoTime() < deadline && status != 200) {
                status = http.send(
                                HttpRequest.newBuilder(URI.create(health)).build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode();
                Thread.sleep(500);
            }
            assertThat(status).isEqualTo(200);
            var lease = new CoordinationV1Api(client)
                    .readNamespacedLease("ferry-culler", NAMESPACE)
                    .execute();
            assertThat(lease.getSpec().getHolderIdentity())
                    .isEqualTo(portal.getBean(LeaseLeadership.class).identity());
        } finally {
            portal.close();
        }
    }
}
