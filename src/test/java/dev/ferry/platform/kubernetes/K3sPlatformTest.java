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
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;

import dev.ferry.FerryApplication;
import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.launch.SessionSpec;
import dev.ferry.repo.ResolvedRepo;

/**
 * Ferry against a real Kubernetes API server (k3s in a container), where Docker is available: the API server accepts
 * the session Pod and the build Job exactly as Ferry builds them (server-side validation, dry run), and a portal on the
 * kubernetes platform starts against it, syncs its informers, reports healthy and takes the culler's Lease.
 *
 * <p>Skipped, with the reason, where Docker or the k3s image is not available (these machines have no Docker daemon and
 * cannot reach Docker Hub). The full launch flow is not run here: the Pods of a k3s-in-Docker cluster are not
 * routable from the test JVM, and the session and builder images need registry access; the flow itself is covered
 * against the API double in {@link KubernetesPlatformTest}.
 */
class K3sPlatformTest {

    static K3sContainer k3s;
    static Path kubeconfig;
    static ApiClient client;

    @BeforeAll
    static void startK3s() throws Exception {
        String image = "rancher/k3s:v1.31.4-k3s1";
        // Checked before Testcontainers touches Docker: without a way to the registry it retries pulls for minutes.
        try {
            java.net.InetAddress.getByName("registry-1.docker.io");
        } catch (java.net.UnknownHostException e) {
            skip("skipped: Docker Hub cannot be reached from here, so the " + image + " image cannot be pulled");
        }
        if (!org.testcontainers.DockerClientFactory.instance().isDockerAvailable()) {
            skip("skipped: no Docker daemon here; k3s runs in a container");
        }
        k3s = new K3sContainer(DockerImageName.parse(image));
        try {
            k3s.start();
        } catch (RuntimeException e) {
            skip("skipped: k3s could not be started here (" + e.getMessage() + "); it needs Docker and the "
                    + "rancher/k3s image");
        }
        kubeconfig = Files.createTempFile("ferry-k3s", ".yaml");
        Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
        try (var reader = Files.newBufferedReader(kubeconfig)) {
            client = ClientBuilder.kubeconfig(KubeConfig.loadKubeConfig(reader)).build();
        }
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
        SessionSpec spec = new SessionSpec("abcdefghijklmnopqrstuvwxyz234567", "t".repeat(43), repo,
                new Environment(key, registry.image(key.slug(), key.commit())), Map.of("BINDER_REQUEST", "v2/git/x"), List.of());
        var pod = new SessionPods(new KubernetesProperties.Session("IfNotPresent", 1000, "100m", "1", "512Mi", "1Gi",
                Map.of(), List.of(), List.of(), java.time.Duration.ofMinutes(10), "1Gi", "10Gi")).pod(spec, Instant.now());
        var job = new BuildJobs(BuildJobsTest.build("push-creds"), registry, BuildJobsTest.repoProperties())
                .job(Labels.jobName(key.id(), key.slug()), repo, key, 3600);

        var createdPod = new CoreV1Api(client).createNamespacedPod("default", pod).dryRun("All").execute();
        var createdJob = new BatchV1Api(client).createNamespacedJob("default", job).dryRun("All").execute();

        assertThat(createdPod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(createdPod.getSpec().getContainers().get(0).getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(createdJob.getSpec().getTemplate().getSpec().getInitContainers()).hasSize(1);
    }

    @Test
    void aPortalStartsAgainstTheClusterReportsHealthyAndTakesTheLease() throws Exception {
        ConfigurableApplicationContext portal = new SpringApplicationBuilder(FerryApplication.class).run(
                "--server.port=0", "--ferry.platform=kubernetes", "--ferry.kubernetes.kubeconfig=" + kubeconfig,
                "--ferry.kubernetes.namespace=default", "--ferry.registry.prefix=registry.example.org/ferry/",
                "--spring.main.banner-mode=off");
        try {
            String health = "http://127.0.0.1:" + portal.getEnvironment().getProperty("local.server.port") + "/health";
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int status = 0;
            while (System.nanoTime() < deadline && status != 200) {
                status = http.send(HttpRequest.newBuilder(URI.create(health)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                Thread.sleep(500);
            }
            assertThat(status).isEqualTo(200);
            var lease = new CoordinationV1Api(client).readNamespacedLease("ferry-culler", "default").execute();
            assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(portal.getBean(LeaseLeadership.class).identity());
        } finally {
            portal.close();
        }
    }
}
