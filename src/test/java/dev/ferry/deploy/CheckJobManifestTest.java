package dev.ferry.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.util.Yaml;

import dev.ferry.testing.Parts;

/**
 * deploy/check, the preflight Job: check-cluster with exactly the portal's account, image, settings and registry
 * credentials, and the push Secret the build Jobs mount.
 */
class CheckJobManifestTest {

    private static List<Object> render(String dir) throws Exception {
        Process p = new ProcessBuilder(Parts.requireKubectl(), "kustomize", dir)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0)
                .as("kubectl kustomize " + dir)
                .isTrue();
        return Yaml.loadAll(yaml);
    }

    private static <T> T one(List<Object> objects, Class<T> type) {
        List<T> all = objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(all).hasSize(1);
        return all.get(0);
    }

    @Test
    void theCheckRunsAsThePortalWithItsSettingsAndThePushSecret() throws Exception {
        List<Object> base = render("deploy/base");
        V1PodSpec portal = one(base, V1Deployment.class).getSpec().getTemplate().getSpec();
        V1Container portalContainer = portal.getContainers().get(0);
        V1Job job = one(render("deploy/check"), V1Job.class);
        V1PodSpec pod = job.getSpec().getTemplate().getSpec();
        V1Container check = pod.getContainers().get(0);

        assertThat(pod.getServiceAccountName()).isEqualTo(portal.getServiceAccountName());
        assertThat(check.getImage()).as("one images: override applies to both").isEqualTo(portalContainer.getImage());
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
                .doesNotContainKey("app.kubernetes.io/managed-by");
        assertThat(check.getArgs().get(0)).isEqualTo("check-cluster");

        // the settings: the same environment (without the admin and rate-limit secrets it has no use for) and ConfigMap
        Map<String, V1EnvVar> portalEnv =
                portalContainer.getEnv().stream().collect(java.util.stream.Collectors.toMap(V1EnvVar::getName, e -> e));
        assertThat(check.getEnv()).allSatisfy(e -> assertThat(e).isEqualTo(portalEnv.get(e.getName())));
        assertThat(check.getEnv())
                .extracting(V1EnvVar::getName)
                .containsAll(portalEnv.keySet().stream()
                        .filter(n -> n.startsWith("FERRY_KUBERNETES")
                                || n.startsWith("FERRY_REGISTRY")
                                || n.startsWith("SPRING_")
                                || n.equals("FERRY_PLATFORM"))
                        .toList());
        assertThat(volume(pod, "config").getConfigMap().getName())
                .isEqualTo(volume(portal, "config").getConfigMap().getName());

        // the push Secret the base's settings name, where --push-config reads it
        Map<String, Object> settings = new org.yaml.snakeyaml.Yaml()
                .load(one(base, V1ConfigMap.class).getData().get("application.yml"));
        Object pushSecret = path(settings, "ferry", "kubernetes", "build", "push-secret");
        V1Volume push = volume(pod, "push");
        assertThat(push.getSecret().getSecretName()).isEqualTo(pushSecret);
        assertThat(push.getSecret().getItems().get(0).getKey()).isEqualTo(".dockerconfigjson");
        String mountPath = check.getVolumeMounts().stream()
                .filter(m -> m.getName().equals("push"))
                .findFirst()
                .orElseThrow()
                .getMountPath();
        assertThat(check.getArgs())
                .contains("--push-config=" + mountPath + "/"
                        + push.getSecret().getItems().get(0).getPath());

        assertThat(check.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(check.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(check.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    }

    private static Object path(Object yaml, String... keys) {
        for (String key : keys) {
            yaml = yaml instanceof Map<?, ?> map ? map.get(key) : null;
        }
        return yaml;
    }

    private static V1Volume volume(V1PodSpec pod, String name) {
        return pod.getVolumes().stream()
                .filter(v -> v.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }
}
