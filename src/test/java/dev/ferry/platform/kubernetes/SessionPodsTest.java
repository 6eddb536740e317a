package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.JSON;

import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.launch.SessionSpec;
import dev.ferry.repo.ResolvedRepo;

/** The session Pod as Ferry sends it: the client's own serialisation of what {@link SessionPods} builds. */
class SessionPodsTest {

    static KubernetesProperties.Session session(List<String> pullSecrets) {
        return new KubernetesProperties.Session("IfNotPresent", 1000, "100m", "1", "512Mi", "1Gi", Map.of(), List.of(),
                pullSecrets, Duration.ofMinutes(10));
    }

    static SessionSpec spec() {
        ResolvedRepo repo = BuildJobsTest.repo("https://example.org/org/repo.git");
        ImageKey key = ImageKey.of(repo);
        return new SessionSpec("abcdefghijklmnopqrstuvwxyz234567", "t".repeat(43), repo,
                new Environment(key, "registry.example.org/ferry/" + key.slug() + ":" + key.commit()), Map.of(), List.of());
    }

    @Test
    void thePodPullsItsImageWithTheConfiguredPullSecretsAndNamesNoneWhenThereAreNone() {
        String withSecrets = JSON.serialize(new SessionPods(session(List.of("registry-creds"))).pod(spec(), Instant.now()));
        String without = JSON.serialize(new SessionPods(session(List.of())).pod(spec(), Instant.now()));

        assertThat(withSecrets).contains("\"imagePullSecrets\":[{\"name\":\"registry-creds\"}]");
        assertThat(without).doesNotContain("registry-creds");
    }

    @Test
    void pullErrorsTheKubeletRetriesAreNotFailuresButAMissingOrRefusedImageIs() {
        String image = "registry.example.org/ferry/repo:0123456789abcdef0123456789abcdef01234567";
        // what containerd and Docker say when the registry is slow, down or failing: the kubelet retries these
        for (String transient_ : List.of(
                "failed to pull and unpack image \"" + image + "\": failed to resolve reference: dial tcp 10.0.0.5:443: i/o timeout",
                "rpc error: code = Unknown desc = Error response from daemon: Get \"https://registry.example.org/v2/\": net/http: TLS handshake timeout",
                "failed to do request: Head \"https://registry.example.org/v2/ferry/repo/manifests/x\": dial tcp 10.0.0.5:443: connect: connection refused",
                "unexpected status from HEAD request: 503 Service Unavailable",
                "Back-off pulling image \"" + image + "\"")) {
            assertThat(KubernetesLauncher.pullFailure(image, "ErrImagePull", transient_)).as(transient_).isNull();
            assertThat(KubernetesLauncher.pullFailure(image, "ImagePullBackOff", transient_)).as(transient_).isNull();
        }
        assertThat(KubernetesLauncher.pullFailure(image, "ErrImagePull", "rpc error: code = NotFound desc = failed to pull "
                + "and unpack image \"" + image + "\": failed to resolve reference \"" + image + "\": " + image + ": not found"))
                .contains("is not in the registry").contains("launch again to rebuild it");
        assertThat(KubernetesLauncher.pullFailure(image, "ErrImagePull", "manifest for " + image + " not found: manifest unknown"))
                .contains("is not in the registry");
        assertThat(KubernetesLauncher.pullFailure(image, "ErrImagePull", "Error response from daemon: pull access denied for "
                + "registry.example.org/ferry/repo, repository does not exist or may require 'docker login'"))
                .contains("ferry.kubernetes.session.image-pull-secrets");
        assertThat(KubernetesLauncher.pullFailure(image, "ErrImagePull", "failed to authorize: failed to fetch anonymous token: "
                + "unexpected status: 401 Unauthorized")).contains("needs credentials");
        assertThat(KubernetesLauncher.pullFailure(image, "InvalidImageName", "couldn't parse image reference")).contains("could not be used");
    }
}
