package dev.ferry.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.mock.env.MockEnvironment;

class PlatformsTest {

    @TempDir
    Path home;

    @Test
    void autoIsLocalWhereNoClusterIsConfigured() {
        assertThat(Platforms.clusterConfigured(Map.of(), home)).isFalse();
        assertThat(Platforms.chosen(new MockEnvironment())).isEqualTo(Platforms.LOCAL);
    }

    @Test
    void aKubeconfigOrKubeconfigVariableCountsAsAConfiguredCluster() throws Exception {
        assertThat(Platforms.clusterConfigured(Map.of("KUBECONFIG", "/etc/kube.yaml"), home))
                .isTrue();
        Files.createDirectories(home.resolve(".kube"));
        Files.writeString(home.resolve(".kube/config"), "apiVersion: v1\n");
        assertThat(Platforms.clusterConfigured(Map.of(), home)).isTrue();
    }

    @Test
    void autoNeedsARegistryBesidesACluster() {
        assertThat(Platforms.registryConfigured(new MockEnvironment())).isFalse();
        assertThat(Platforms.registryConfigured(
                        new MockEnvironment().withProperty("ferry.registry.prefix", "r.example.org/ferry/")))
                .isTrue();
    }

    @Test
    void explicitChoicesAreTakenAndNonsenseIsRefused() {
        assertThat(Platforms.chosen(new MockEnvironment().withProperty("ferry.platform", "local")))
                .isEqualTo("local");
        assertThat(Platforms.chosen(new MockEnvironment().withProperty("ferry.platform", "Kubernetes")))
                .isEqualTo("kubernetes");
        assertThatThrownBy(() -> Platforms.chosen(new MockEnvironment().withProperty("ferry.platform", "docker")))
                .hasMessageContaining("must be auto, local or kubernetes");
    }
}
