package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1PolicyRule;

/** The table check-cluster asks about is the Role deploy/ grants: neither may change alone. */
class KubePermissionsTest {

    @Test
    void theTableCheckClusterAsksAboutEqualsTheRulesOfTheDeployedRole() {
        Map<String, Set<String>> role = new TreeMap<>();
        for (V1PolicyRule rule : ApiServerRules.deployedRole()) {
            assertThat(rule.getResourceNames())
                    .as("the Role names no single objects")
                    .isNullOrEmpty();
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    role.merge(group + "/" + resource, Set.copyOf(rule.getVerbs()), (a, b) -> {
                        var both = new java.util.TreeSet<>(a);
                        both.addAll(b);
                        return Set.copyOf(both);
                    });
                }
            }
        }
        Map<String, Set<String>> table = new TreeMap<>();
        for (KubePermissions.Rule rule : KubePermissions.RULES) {
            assertThat(table.put(rule.group() + "/" + rule.resource(), Set.copyOf(rule.verbs())))
                    .as("one row per resource")
                    .isNull();
        }

        assertThat(table).isEqualTo(role);
    }

    @Test
    void aSubresourceIsAskedAboutAsResourceAndSubresource() {
        var log = KubePermissions.accesses().stream()
                .filter(a -> a.rule().resource().equals("pods/log"))
                .findFirst()
                .orElseThrow();

        assertThat(log.rule().resourceOnly()).isEqualTo("pods");
        assertThat(log.rule().subresource()).isEqualTo("log");
        assertThat(log.describe()).isEqualTo("get pods/log");
        assertThat(KubePermissions.accesses())
                .extracting(KubePermissions.Access::describe)
                .contains("update leases.coordination.k8s.io");
    }
}
