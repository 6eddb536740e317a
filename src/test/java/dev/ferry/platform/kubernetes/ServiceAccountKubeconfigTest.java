package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.KubeConfig;

import dev.ferry.testing.Parts;

/**
 * What K3sPlatformTest's setup does without a cluster (which it cannot have here): deploy/base's RBAC objects read
 * as the models it creates, and the ServiceAccount kubeconfig it writes carries the cluster and the token, nothing else.
 */
class ServiceAccountKubeconfigTest {

    @Test
    void deployBaseRendersTheServiceAccountItsRoleAndTheBindingBetweenThem() throws Exception {
        Parts.requireKubectl();
        List<Object> objects = ServiceAccountKubeconfig.rbacObjects();
        V1ServiceAccount sa = one(objects, V1ServiceAccount.class);
        V1Role role = one(objects, V1Role.class);
        V1RoleBinding binding = one(objects, V1RoleBinding.class);
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo(sa.getMetadata().getName());
        });
    }

    @Test
    void theKubeconfigHoldsTheClustersServerAndCaAndOnlyTheServiceAccountsToken() {
        String admin = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: default
                  cluster:
                    server: https://127.0.0.1:6443
                    certificate-authority-data: Q0EtREFUQQ==
                users:
                - name: default
                  user:
                    client-certificate-data: Q0VSVA==
                    client-key-data: S0VZ
                contexts:
                - name: default
                  context: {cluster: default, user: default}
                current-context: default
                """;
        String yaml = ServiceAccountKubeconfig.kubeconfig(admin, "ferry", "sa-token", "ferry");
        KubeConfig config = KubeConfig.loadKubeConfig(new StringReader(yaml));
        assertThat(config.getServer()).isEqualTo("https://127.0.0.1:6443");
        assertThat(config.getCertificateAuthorityData()).isEqualTo("Q0EtREFUQQ==");
        assertThat(config.getNamespace()).isEqualTo("ferry");
        assertThat(config.getCredentials()).containsEntry(KubeConfig.CRED_TOKEN_KEY, "sa-token");
        assertThat(yaml).doesNotContain("Q0VSVA==").doesNotContain("S0VZ");
    }

    private static <T> T one(List<Object> objects, Class<T> type) {
        List<T> found =
                objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(found).as(type.getSimpleName()).hasSize(1);
        return found.get(0);
    }
}
