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
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.SessionSpec;

/** The session Pod as Ferry sends it: the client's own serialisation of what {@link SessionPods} builds. */
class SessionPodsTest {

    static KubernetesProperties.Session session(List<String> pullSecrets) {
        return new KubernetesProperties.Session(
                "IfNotPresent",
                1000,
                "100m",
                "1",
                "512Mi",
                "1Gi",
                Map.of(),
                List.of(),
                pullSecrets,
                Duration.ofMinutes(10),
                "1Gi",
                "10Gi");
    }

    static SessionSpec spec() {
        return spec(Map.of());
    }

    /** The session of the repo {@link BuildJobsTest#repo} names, with the given extra environment. */
    static SessionSpec spec(Map<String, String> env) {
        ResolvedRepo repo = BuildJobsTest.repo("https://example.org/org/repo.git");
        ImageKey key = ImageKey.of(repo);
        return new SessionSpec(
                "abcdefghijklmnopqrstuvwxyz234567",
                "t".repeat(43),
                repo,
                new Environment(key, "registry.example.org/ferry/" + key.slug() + ":" + key.commit()),
                env,
                List.of());
    }

    @Test
    void thePodPullsItsImageWithTheConfiguredPullSecretsAndNamesNoneWhenThereAreNone() {
        String withSecrets =
                JSON.serialize(new SessionPods(session(List.of("registry-creds"))).pod(spec(), Instant.now()));
        String without = JSON.serialize(new SessionPods(session(List.of())).pod(spec(), Instant.now()));

        assertThat(withSecrets).contains("\"imagePullSecrets\":[{\"name\":\"registry-creds\"}]");
        assertThat(without).doesNotContain("registry-creds");
    }

    @Test
    void pullErrorsTheKubeletRetriesAreNotFailuresButAMissingOrRefusedImageIs() {
        String image = "registry.example.org/ferry/repo:0123456789abcdef0123456789abcdef01234567";
        // what containerd and Docker say when the registry is slow, down or failing: the kubelet retries these
        for (String transient_ : List.of(
                "failed to pull and unpack image \"" + image
                        + "\": failed to resolve reference: dial tcp 10.0.0.5:443: i/o timeout",
                "rpc error: code = Unknown desc = Error response from daemon: Get \"https://registry.example.org/v2/\": net/http: TLS handshake timeout",
                "failed to do request: Head \"https://registry.example.org/v2/ferry/repo/manifests/x\": dial tcp 10.0.0.5:443: connect: connection refused",
                "unexpected status from HEAD request: 503 Service Unavailable",
                "Back-off pulling image \"" + image + "\"")) {
            assertThat(KubernetesSessionRuntime.pullFailure(image, "ErrImagePull", transient_))
                    .as(transient_)
                    .isNull();
            assertThat(KubernetesSessionRuntime.pullFailure(image, "ImagePullBackOff", transient_))
                    .as(transient_)
                    .isNull();
        }
        assertThat(KubernetesSessionRuntime.pullFailure(
                        image,
                        "ErrImagePull",
                        "rpc error: code = NotFound desc = failed to pull " + "and unpack image \"" + image
                                + "\": failed to resolve reference \"" + image + "\": " + image + ": not found"))
                .contains("is not in the registry")
                .contains("launch again to rebuild it");
        assertThat(KubernetesSessionRuntime.pullFailure(
                        image, "ErrImagePull", "manifest for " + image + " not found: manifest unknown"))
                .contains("is not in the registry");
        assertThat(
                        KubernetesSessionRuntime.pullFailure(
                                image,
                                "ErrImagePull",
                                "Error response from daemon: pull access denied for "
                                        + "registry.example.org/ferry/repo, repository does not exist or may require 'docker login'"))
                .contains("ferry.kubernetes.session.image-pull-secrets");
        assertThat(KubernetesSessionRuntime.pullFailure(
                        image,
                        "ErrImagePull",
                        "failed to authorize: failed to fetch anonymous token: "
                                + "unexpected status: 401 Unauthorized"))
                .contains("needs credentials");
        assertThat(KubernetesSessionRuntime.pullFailure(image, "InvalidImageName", "couldn't parse image reference"))
                .contains("could not be used");
    }

    /**
     * #19.13: the session Pod meets Pod Security {@code restricted} (the policy a sessions' namespace enforces), checked
     * control by control as the Pod Security admission checks it, on the Pod as serialised for the API server.
     */
    @Test
    void theSessionPodMeetsPodSecurityRestrictedFieldByField() {
        io.kubernetes.client.openapi.models.V1Pod pod = JSON.deserialize(
                JSON.serialize(new SessionPods(session(List.of())).pod(spec(), Instant.now())),
                io.kubernetes.client.openapi.models.V1Pod.class);
        var spec = pod.getSpec();
        var podContext = spec.getSecurityContext();
        // baseline: host namespaces, hostPath, host ports, privileged, capabilities, sysctls, procMount, AppArmor,
        // SELinux
        assertThat(spec.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
        assertThat(spec.getHostPID()).isNotEqualTo(Boolean.TRUE);
        assertThat(spec.getHostIPC()).isNotEqualTo(Boolean.TRUE);
        assertThat(spec.getVolumes() == null ? List.of() : spec.getVolumes()).allSatisfy(v -> {
            // restricted allows only these volume types
            assertThat(v.getHostPath()).isNull();
            assertThat(v.getConfigMap() != null
                            || v.getEmptyDir() != null
                            || v.getSecret() != null
                            || v.getProjected() != null
                            || v.getDownwardAPI() != null
                            || v.getPersistentVolumeClaim() != null
                            || v.getCsi() != null
                            || v.getEphemeral() != null)
                    .as(v.getName())
                    .isTrue();
        });
        assertThat(podContext.getSysctls()).isNullOrEmpty();
        assertThat(
                        podContext.getAppArmorProfile() == null
                                ? null
                                : podContext.getAppArmorProfile().getType())
                .isNotEqualTo("Unconfined");
        assertThat(podContext.getSeLinuxOptions()).isNull();
        assertThat(podContext.getRunAsUser()).isNotEqualTo(0L);
        assertThat(pod.getMetadata().getAnnotations())
                .noneSatisfy((k, v) -> assertThat(k).startsWith("container.apparmor.security.beta"));
        List<io.kubernetes.client.openapi.models.V1Container> all = new java.util.ArrayList<>(spec.getContainers());
        if (spec.getInitContainers() != null) {
            all.addAll(spec.getInitContainers());
        }
        for (var c : all) {
            var ctx = c.getSecurityContext();
            assertThat(ctx).as(c.getName()).isNotNull();
            assertThat(ctx.getPrivileged()).as(c.getName()).isNotEqualTo(Boolean.TRUE);
            assertThat(c.getPorts())
                    .as(c.getName())
                    .allSatisfy(p -> assertThat(p.getHostPort()).isNull());
            assertThat(ctx.getProcMount()).as(c.getName()).isIn(null, "Default");
            assertThat(ctx.getSeLinuxOptions()).as(c.getName()).isNull();
            assertThat(
                            ctx.getAppArmorProfile() == null
                                    ? null
                                    : ctx.getAppArmorProfile().getType())
                    .isNotEqualTo("Unconfined");
            // restricted: no privilege escalation, every capability dropped (only NET_BIND_SERVICE may be added)
            assertThat(ctx.getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
            assertThat(ctx.getCapabilities().getDrop()).as(c.getName()).contains("ALL");
            assertThat(
                            ctx.getCapabilities().getAdd() == null
                                    ? List.of()
                                    : ctx.getCapabilities().getAdd())
                    .as(c.getName())
                    .isSubsetOf("NET_BIND_SERVICE");
            // restricted: non-root (the container's or the Pod's setting), never uid 0
            Boolean nonRoot = ctx.getRunAsNonRoot() != null ? ctx.getRunAsNonRoot() : podContext.getRunAsNonRoot();
            assertThat(nonRoot).as(c.getName() + " runAsNonRoot").isTrue();
            assertThat(ctx.getRunAsUser()).as(c.getName()).isNotEqualTo(0L);
            // restricted: seccomp RuntimeDefault or Localhost, the container's or else the Pod's
            var seccomp = ctx.getSeccompProfile() != null ? ctx.getSeccompProfile() : podContext.getSeccompProfile();
            assertThat(seccomp).as(c.getName() + " seccompProfile").isNotNull();
            assertThat(seccomp.getType()).as(c.getName()).isIn("RuntimeDefault", "Localhost");
        }
    }
}
