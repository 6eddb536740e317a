package dev.ferry.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.type.filter.AnnotationTypeFilter;

import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1Ingress;
import io.kubernetes.client.openapi.models.V1NetworkPolicy;
import io.kubernetes.client.openapi.models.V1NetworkPolicyEgressRule;
import io.kubernetes.client.openapi.models.V1NetworkPolicyIngressRule;
import io.kubernetes.client.openapi.models.V1NetworkPolicyPeer;
import io.kubernetes.client.openapi.models.V1NetworkPolicyPort;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.Yaml;

import dev.ferry.FerryProperties;
import dev.ferry.testing.Parts;

/**
 * The manifests of {@code deploy/} as {@code kubectl kustomize} renders them, read into the Kubernetes client's typed
 * models: the portal's permissions, its hardening and probes, and the NetworkPolicies that fence session and build
 * pods in. The ConfigMap's settings must be real Ferry settings.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployManifestsTest {

    private static final Map<String, String> PORTAL =
            Map.of("app.kubernetes.io/name", "ferry", "app.kubernetes.io/component", "portal");
    private static final Map<String, String> SESSIONS =
            Map.of("app.kubernetes.io/managed-by", "ferry", "app.kubernetes.io/component", "session");
    private static final Map<String, String> BUILDS =
            Map.of("app.kubernetes.io/managed-by", "ferry", "app.kubernetes.io/component", "build");
    private static final Set<String> PRIVATE_V4 =
            Set.of("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8");
    private static final Set<String> PRIVATE_V6 = Set.of("fc00::/7", "fe80::/10", "::1/128");

    private Rendered base;
    private Rendered local;
    private Rendered namespaces;

    @BeforeAll
    void render() throws Exception {
        String kubectl = Parts.requireKubectl();
        base = Rendered.of(kubectl, "deploy/base");
        local = Rendered.of(kubectl, "deploy/overlays/local");
        namespaces = Rendered.of(kubectl, "deploy/overlays/namespaces");
    }

    @Test
    void roleGrantsExactlyWhatThePortalNeedsInItsNamespace() {
        for (Rendered r : List.of(base, local)) {
            V1Role role = r.one(V1Role.class, "ferry");
            Map<String, Set<String>> verbs = new LinkedHashMap<>();
            for (V1PolicyRule rule : role.getRules()) {
                for (String group : rule.getApiGroups()) {
                    for (String resource : rule.getResources()) {
                        verbs.put(group + "/" + resource, Set.copyOf(rule.getVerbs()));
                    }
                }
                assertThat(rule.getResourceNames())
                        .as("resourceNames of %s", rule.getResources())
                        .isNullOrEmpty();
            }
            assertThat(verbs)
                    .isEqualTo(Map.of(
                            "/pods", Set.of("get", "list", "watch", "create", "delete", "patch"),
                            "/pods/log", Set.of("get"),
                            "batch/jobs", Set.of("get", "list", "watch", "create", "delete"),
                            "/events", Set.of("get", "list", "watch"),
                            // delete: the leader deletes the ConfigMaps of workshops that ended long ago
                            "/configmaps", Set.of("get", "list", "watch", "create", "patch", "delete"),
                            // no secrets: build Pods mount the push Secret; the kubelet reads it, the portal never does
                            "coordination.k8s.io/leases", Set.of("get", "create", "update")));

            V1RoleBinding binding = r.one(V1RoleBinding.class, "ferry");
            assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
            assertThat(binding.getRoleRef().getName()).isEqualTo("ferry");
            assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
                assertThat(s.getKind()).isEqualTo("ServiceAccount");
                assertThat(s.getName()).isEqualTo("ferry");
            });
            assertThat(r.one(V1ServiceAccount.class, "ferry")).isNotNull();
            assertThat(r.kinds()).doesNotContain("ClusterRole", "ClusterRoleBinding");
        }
    }

    @Test
    void portalRunsTwoHardenedReplicasWithProbesInBaseAndOneLocally() {
        assertThat(base.one(V1Deployment.class, "ferry").getSpec().getReplicas())
                .isEqualTo(2);
        assertThat(local.one(V1Deployment.class, "ferry").getSpec().getReplicas())
                .isEqualTo(1);
        for (Rendered r : List.of(base, local)) {
            V1Deployment deployment = r.one(V1Deployment.class, "ferry");
            assertThat(deployment.getSpec().getSelector().getMatchLabels()).isEqualTo(PORTAL);
            // the informers list app.kubernetes.io/managed-by=ferry pods as sessions and builds: never the portal
            assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
                    .containsAllEntriesOf(PORTAL)
                    .doesNotContainKey("app.kubernetes.io/managed-by");

            V1PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            assertThat(pod.getServiceAccountName()).isEqualTo("ferry");
            assertThat(pod.getAutomountServiceAccountToken()).isTrue();
            // preStop's sleep, then Spring's graceful shutdown (timeout-per-shutdown-phase), within the grace period
            // (#19.12)
            assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(40L);
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
            assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
            assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            assertThat(pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution())
                    .singleElement()
                    .satisfies(term -> assertThat(
                                    term.getPodAffinityTerm().getLabelSelector().getMatchLabels())
                            .isEqualTo(PORTAL));

            V1Container portal = pod.getContainers().get(0);
            assertThat(pod.getContainers()).hasSize(1);
            assertThat(portal.getImage()).isEqualTo("ghcr.io/ferry-dev/ferry:latest");
            assertThat(portal.getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getName()).isEqualTo("http");
                assertThat(p.getContainerPort()).isEqualTo(8080);
            });
            assertThat(portal.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/readiness");
            assertThat(portal.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
            assertThat(portal.getStartupProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
            assertThat(portal.getStartupProbe().getPeriodSeconds()
                            * portal.getStartupProbe().getFailureThreshold())
                    .as("seconds the startup probe allows")
                    .isGreaterThanOrEqualTo(120);
            assertThat(portal.getSecurityContext().getAllowPrivilegeEscalation())
                    .isFalse();
            assertThat(portal.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
            assertThat(portal.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
            assertThat(portal.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
            assertThat(portal.getSecurityContext().getSeccompProfile().getType())
                    .isEqualTo("RuntimeDefault");
            assertThat(portal.getResources().getRequests()).containsKeys("cpu", "memory");
            assertThat(portal.getResources().getLimits()).containsKey("memory");
            assertThat(portal.getLifecycle().getPreStop().getExec().getCommand())
                    .containsExactly("sleep", "10");

            Map<String, V1EnvVar> env = portal.getEnv().stream().collect(Collectors.toMap(V1EnvVar::getName, e -> e));
            assertThat(env.get("FERRY_PLATFORM").getValue()).isEqualTo("kubernetes");
            assertThat(env.get("FERRY_KUBERNETES_NAMESPACE")
                            .getValueFrom()
                            .getFieldRef()
                            .getFieldPath())
                    .isEqualTo("metadata.namespace");
            assertThat(env.get("FERRY_REGISTRY_PASSWORD")
                            .getValueFrom()
                            .getSecretKeyRef()
                            .getOptional())
                    .isTrue();
            assertThat(env.get("SPRING_CONFIG_ADDITIONAL_LOCATION").getValue()).isEqualTo("optional:file:/config/");
            // #19.12: heap + bounded direct memory + the JVM's own (~300 MiB) under the limit, so no OOMKill
            String jvm = env.get("JDK_JAVA_OPTIONS").getValue();
            long limitMiB =
                    portal.getResources().getLimits().get("memory").getNumber().longValue() >> 20;
            long heapMiB = limitMiB * Long.parseLong(jvm.replaceAll(".*-XX:MaxRAMPercentage=(\\d+).*", "$1")) / 100;
            long directMiB = Long.parseLong(jvm.replaceAll(".*-XX:MaxDirectMemorySize=(\\d+)m.*", "$1"));
            assertThat(heapMiB + directMiB + 300)
                    .as("heap + direct + JVM MiB under the %d MiB limit", limitMiB)
                    .isLessThanOrEqualTo(limitMiB);

            Map<String, String> mounts = portal.getVolumeMounts().stream()
                    .collect(Collectors.toMap(m -> m.getMountPath(), m -> m.getName()));
            assertThat(pod.getVolumes())
                    .anySatisfy(v -> {
                        assertThat(v.getName()).isEqualTo(mounts.get("/tmp"));
                        assertThat(v.getEmptyDir()).isNotNull();
                    })
                    .anySatisfy(v -> {
                        assertThat(v.getName()).isEqualTo(mounts.get("/config"));
                        assertThat(v.getConfigMap().getName()).isEqualTo("ferry-config");
                    });
        }
    }

    @Test
    void serviceIngressAndDisruptionBudgetReachThePortal() {
        for (Rendered r : List.of(base, local)) {
            V1Service service = r.one(V1Service.class, "ferry");
            assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
            assertThat(service.getSpec().getSelector()).isEqualTo(PORTAL);
            assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getPort()).isEqualTo(80);
                assertThat(p.getTargetPort().getStrValue()).isEqualTo("http");
            });

            V1Ingress ingress = r.one(V1Ingress.class, "ferry");
            assertThat(ingress.getMetadata().getAnnotations())
                    .containsEntry("nginx.ingress.kubernetes.io/proxy-read-timeout", "3600")
                    .containsEntry("nginx.ingress.kubernetes.io/proxy-send-timeout", "3600")
                    .containsEntry("nginx.ingress.kubernetes.io/proxy-body-size", "0")
                    .containsEntry("nginx.ingress.kubernetes.io/proxy-buffering", "off");
            assertThat(ingress.getSpec().getRules()).singleElement().satisfies(rule -> {
                assertThat(rule.getHost()).isEqualTo(r == base ? "ferry.example.org" : "ferry.localtest.me");
                assertThat(rule.getHttp().getPaths()).singleElement().satisfies(path -> {
                    assertThat(path.getBackend().getService().getName()).isEqualTo("ferry");
                    assertThat(path.getBackend().getService().getPort().getName())
                            .isEqualTo("http");
                });
            });

            V1PodDisruptionBudget pdb = r.one(V1PodDisruptionBudget.class, "ferry");
            // #19.12: one disruption at a time; never minAvailable, which blocks draining the local overlay's one
            // replica
            assertThat(pdb.getSpec().getMaxUnavailable().getIntValue()).isEqualTo(1);
            assertThat(pdb.getSpec().getMinAvailable()).isNull();
            assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(PORTAL);
        }
    }

    @Test
    void sessionPodsAreReachedOnlyByThePortalAndReachOnlyDnsAndThePublicInternet() {
        for (Rendered r : List.of(base, local)) {
            V1NetworkPolicy policy = r.one(V1NetworkPolicy.class, "ferry-sessions");
            assertThat(policy.getSpec().getPodSelector().getMatchLabels()).isEqualTo(SESSIONS);
            assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");

            V1NetworkPolicyIngressRule ingress = policy.getSpec().getIngress().get(0);
            assertThat(policy.getSpec().getIngress()).hasSize(1);
            assertThat(ingress.getFrom()).singleElement().satisfies(peer -> {
                assertThat(peer.getNamespaceSelector())
                        .as("same namespace only")
                        .isNull();
                assertThat(peer.getIpBlock()).isNull();
                assertThat(peer.getPodSelector().getMatchLabels()).isEqualTo(PORTAL);
                assertThat(peer.getPodSelector().getMatchExpressions()).isNullOrEmpty();
            });
            assertThat(ports(ingress.getPorts())).containsExactly("TCP/8888");
            // the selector admits the pods the Deployment actually makes
            assertThat(r.one(V1Deployment.class, "ferry")
                            .getSpec()
                            .getTemplate()
                            .getMetadata()
                            .getLabels())
                    .containsAllEntriesOf(
                            ingress.getFrom().get(0).getPodSelector().getMatchLabels());

            assertEgressOnlyDnsAndPublicWeb(policy);
        }
    }

    @Test
    void buildPodsAcceptNoConnectionsAndReachOnlyDnsAndThePublicInternet() {
        for (Rendered r : List.of(base, local)) {
            V1NetworkPolicy policy = r.one(V1NetworkPolicy.class, "ferry-builds");
            assertThat(policy.getSpec().getPodSelector().getMatchLabels()).isEqualTo(BUILDS);
            assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
            assertThat(policy.getSpec().getIngress()).isNullOrEmpty();
            assertEgressOnlyDnsAndPublicWeb(policy);
        }
    }

    @Test
    void baseHasNoNamespaceAndNoRegistryWhileLocalHasBoth() {
        assertThat(base.objects())
                .allSatisfy(o -> assertThat(metadataNamespace(o)).isNull());
        assertThat(local.objects())
                .filteredOn(o -> !(o instanceof io.kubernetes.client.openapi.models.V1Namespace))
                .allSatisfy(o -> assertThat(metadataNamespace(o)).isEqualTo("ferry"));
        assertThat(base.all(V1Deployment.class))
                .extracting(d -> d.getMetadata().getName())
                .containsExactly("ferry");
        assertThat(base.all(V1NetworkPolicy.class))
                .extracting(p -> p.getMetadata().getName())
                .containsExactlyInAnyOrder("ferry-sessions", "ferry-builds");
    }

    @Test
    void localOverlayRunsARegistryThatBuildAndSessionPodsMayReach() {
        V1Deployment registry = local.one(V1Deployment.class, "registry");
        V1Container container =
                registry.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo("docker.io/library/registry:2");
        assertThat(container.getPorts())
                .singleElement()
                .satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(5000));
        assertThat(registry.getSpec().getTemplate().getSpec().getVolumes())
                .anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
        Map<String, String> registryLabels =
                registry.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(registryLabels).doesNotContainKey("app.kubernetes.io/managed-by");

        V1Service service = local.one(V1Service.class, "registry");
        assertThat(service.getSpec().getPorts())
                .singleElement()
                .satisfies(p -> assertThat(p.getPort()).isEqualTo(5000));
        assertThat(registryLabels).containsAllEntriesOf(service.getSpec().getSelector());

        Map<Map<String, String>, V1NetworkPolicy> extra = new LinkedHashMap<>();
        for (V1NetworkPolicy policy : local.all(V1NetworkPolicy.class)) {
            if (!Set.of("ferry-sessions", "ferry-builds")
                    .contains(policy.getMetadata().getName())) {
                extra.put(policy.getSpec().getPodSelector().getMatchLabels(), policy);
            }
        }
        assertThat(extra).containsOnlyKeys(SESSIONS, BUILDS);
        for (V1NetworkPolicy policy : extra.values()) {
            assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Egress");
            assertThat(policy.getSpec().getEgress()).singleElement().satisfies(rule -> {
                assertThat(ports(rule.getPorts())).containsExactly("TCP/5000");
                assertThat(rule.getTo()).singleElement().satisfies(peer -> {
                    assertThat(peer.getIpBlock()).isNull();
                    assertThat(peer.getNamespaceSelector()).isNull();
                    assertThat(registryLabels)
                            .containsAllEntriesOf(peer.getPodSelector().getMatchLabels());
                });
            });
        }
    }

    @Test
    void configurationBindsToTheKubernetesPlatformAndThePushSecret() throws Exception {
        Binder baseConfig = binder(base);
        assertThat(baseConfig.bindOrCreate("ferry", FerryProperties.class).platform())
                .isEqualTo("kubernetes");
        assertThat(baseConfig
                        .bind("ferry.kubernetes.build.push-secret", String.class)
                        .get())
                .isEqualTo("ferry-registry-push");
        assertThat(baseConfig
                        .bind("management.endpoint.health.probes.enabled", Boolean.class)
                        .get())
                .isTrue();

        Binder localConfig = binder(local);
        assertThat(localConfig.bindOrCreate("ferry", FerryProperties.class).platform())
                .isEqualTo("kubernetes");
        assertThat(localConfig.bind("ferry.registry.prefix", String.class).get())
                .isEqualTo("registry.ferry.svc.cluster.local:5000/ferry/");
        assertThat(localConfig.bind("ferry.registry.insecure", Boolean.class).get())
                .isTrue();
        assertThat(localConfig
                        .bind("management.endpoint.health.probes.enabled", Boolean.class)
                        .get())
                .isTrue();

        // the whole ferry.kubernetes and ferry.registry trees bind to their records, where the code has them
        for (Binder config : List.of(baseConfig, localConfig)) {
            assertThat(config.bind("spring.lifecycle.timeout-per-shutdown-phase", java.time.Duration.class)
                            .get())
                    .as("graceful shutdown within the pod's grace period")
                    .isLessThan(java.time.Duration.ofSeconds(base.one(V1Deployment.class, "ferry")
                            .getSpec()
                            .getTemplate()
                            .getSpec()
                            .getTerminationGracePeriodSeconds()));
            for (Class<?> type : configurationProperties().keySet()) {
                String prefix = configurationProperties().get(type);
                if (prefix.equals("ferry.kubernetes") || prefix.equals("ferry.registry")) {
                    assertThat(config.bindOrCreate(prefix, type)).isNotNull();
                }
            }
        }
    }

    @Test
    void everyFerrySettingInTheConfigMapsIsARealSetting() throws Exception {
        Set<String> known = new HashSet<>(flatten(
                        new org.yaml.snakeyaml.Yaml()
                                .load(Files.readString(Path.of("src/main/resources/application.yml"))),
                        "",
                        false)
                .keySet());
        Set<String> mapPrefixes = new HashSet<>();
        configurationProperties().forEach((type, prefix) -> settings(type, prefix, known, mapPrefixes));
        String documented = Files.readString(Path.of("docs/configuration.md"));

        for (Rendered r : List.of(base, local)) {
            Set<String> unknown = new TreeSet<>();
            for (String key : configKeys(r).keySet()) {
                boolean real = !key.startsWith("ferry.")
                        || known.contains(key)
                        || mapPrefixes.stream().anyMatch(p -> key.startsWith(p + "."))
                        || documented.contains("`" + key + "`");
                if (!real) {
                    unknown.add(key);
                }
            }
            assertThat(unknown)
                    .as("ferry-config keys of %s that no setting declares", r.dir())
                    .isEmpty();
        }
    }

    /**
     * #19.13: deploy/overlays/namespaces puts sessions in a namespace enforcing Pod Security {@code restricted}, builds in
     * one of their own, and gives the portal's service account a Role in each for what it does there; the network
     * policies move with the Pods, the sessions' admitting the portal from its namespace.
     */
    @Test
    void theNamespacesOverlaySeparatesPortalSessionsAndBuilds() {
        Map<String, Map<String, String>> labels =
                namespaces.all(io.kubernetes.client.openapi.models.V1Namespace.class).stream()
                        .collect(Collectors.toMap(
                                n -> n.getMetadata().getName(),
                                n -> n.getMetadata().getLabels()));
        assertThat(labels).containsOnlyKeys("ferry", "ferry-sessions", "ferry-builds");
        assertThat(labels.get("ferry-sessions")).containsEntry("pod-security.kubernetes.io/enforce", "restricted");
        assertThat(labels.get("ferry")).containsEntry("pod-security.kubernetes.io/enforce", "restricted");
        assertThat(labels.get("ferry-builds")).containsEntry("pod-security.kubernetes.io/enforce", "privileged");

        Map<String, Map<String, Set<String>>> grants = new LinkedHashMap<>();
        for (V1Role role : namespaces.all(V1Role.class)) {
            Map<String, Set<String>> verbs = new LinkedHashMap<>();
            role.getRules()
                    .forEach(rule -> rule.getApiGroups()
                            .forEach(g -> rule.getResources()
                                    .forEach(res -> verbs.put(g + "/" + res, Set.copyOf(rule.getVerbs())))));
            grants.put(role.getMetadata().getNamespace(), verbs);
            V1RoleBinding binding = namespaces.all(V1RoleBinding.class).stream()
                    .filter(b -> b.getMetadata()
                            .getNamespace()
                            .equals(role.getMetadata().getNamespace()))
                    .findFirst()
                    .orElseThrow();
            assertThat(binding.getRoleRef().getName())
                    .isEqualTo(role.getMetadata().getName());
            assertThat(binding.getSubjects()).singleElement().satisfies(sub -> {
                assertThat(sub.getName()).isEqualTo("ferry");
                assertThat(sub.getNamespace())
                        .as("the portal's service account")
                        .isEqualTo("ferry");
            });
        }
        assertThat(grants)
                .isEqualTo(Map.of(
                        "ferry",
                                Map.of(
                                        "/configmaps",
                                        Set.of("get", "list", "watch", "create", "patch", "delete"),
                                        "coordination.k8s.io/leases",
                                        Set.of("get", "create", "update")),
                        "ferry-sessions",
                                Map.of(
                                        "/pods",
                                        Set.of("get", "list", "watch", "create", "delete", "patch"),
                                        "/events",
                                        Set.of("get", "list", "watch")),
                        "ferry-builds",
                                Map.of(
                                        "batch/jobs",
                                        Set.of("get", "list", "watch", "create", "delete"),
                                        "/pods",
                                        Set.of("get", "list", "watch"),
                                        "/pods/log",
                                        Set.of("get"),
                                        "/events",
                                        Set.of("get", "list", "watch"))));

        Map<String, V1EnvVar> env = namespaces
                .one(V1Deployment.class, "ferry")
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getEnv()
                .stream()
                .collect(Collectors.toMap(V1EnvVar::getName, e -> e));
        assertThat(env.get("FERRY_KUBERNETES_SESSIONS_NAMESPACE").getValue()).isEqualTo("ferry-sessions");
        assertThat(env.get("FERRY_KUBERNETES_BUILDS_NAMESPACE").getValue()).isEqualTo("ferry-builds");
        // as Spring reads the Deployment's environment: the variables bind to the settings the code reads
        Map<String, Object> variables = new LinkedHashMap<>();
        env.values().stream().filter(e -> e.getValue() != null).forEach(e -> variables.put(e.getName(), e.getValue()));
        var environment = new org.springframework.core.env.StandardEnvironment();
        environment
                .getPropertySources()
                .addFirst(new org.springframework.core.env.SystemEnvironmentPropertySource(
                        org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        variables));
        Binder fromEnv = Binder.get(environment);
        assertThat(fromEnv.bind("ferry.kubernetes.sessions-namespace", String.class)
                        .get())
                .isEqualTo("ferry-sessions");
        assertThat(fromEnv.bind("ferry.kubernetes.builds-namespace", String.class)
                        .get())
                .isEqualTo("ferry-builds");

        V1NetworkPolicy sessions = namespaces.one(V1NetworkPolicy.class, "ferry-sessions");
        V1NetworkPolicy builds = namespaces.one(V1NetworkPolicy.class, "ferry-builds");
        assertThat(sessions.getMetadata().getNamespace()).isEqualTo("ferry-sessions");
        assertThat(builds.getMetadata().getNamespace()).isEqualTo("ferry-builds");
        assertThat(sessions.getSpec().getPodSelector().getMatchLabels()).isEqualTo(SESSIONS);
        assertThat(builds.getSpec().getPodSelector().getMatchLabels()).isEqualTo(BUILDS);
        assertThat(builds.getSpec().getIngress()).isNullOrEmpty();
        assertThat(sessions.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(ports(rule.getPorts())).containsExactly("TCP/8888");
            assertThat(rule.getFrom()).singleElement().satisfies(peer -> {
                assertThat(peer.getNamespaceSelector().getMatchLabels())
                        .isEqualTo(Map.of("kubernetes.io/metadata.name", "ferry"));
                assertThat(peer.getPodSelector().getMatchLabels()).isEqualTo(PORTAL);
            });
        });
        assertEgressOnlyDnsAndPublicWeb(sessions);
        assertEgressOnlyDnsAndPublicWeb(builds);
        assertThat(namespaces.all(V1Deployment.class))
                .singleElement()
                .satisfies(d -> assertThat(d.getMetadata().getNamespace()).isEqualTo("ferry"));
    }

    private static void assertEgressOnlyDnsAndPublicWeb(V1NetworkPolicy policy) {
        List<V1NetworkPolicyEgressRule> egress = policy.getSpec().getEgress();
        assertThat(egress)
                .as("egress rules of %s", policy.getMetadata().getName())
                .hasSize(2);

        V1NetworkPolicyEgressRule dns = egress.stream()
                .filter(e -> ports(e.getPorts()).contains("UDP/53"))
                .findFirst()
                .orElseThrow();
        assertThat(ports(dns.getPorts())).containsExactlyInAnyOrder("UDP/53", "TCP/53");
        assertThat(dns.getTo())
                .hasSize(2)
                .anySatisfy(peer -> {
                    assertThat(peer.getIpBlock()).isNull();
                    assertThat(peer.getNamespaceSelector()).isNotNull();
                    assertThat(peer.getPodSelector().getMatchLabels()).isEqualTo(Map.of("k8s-app", "kube-dns"));
                })
                .anySatisfy(peer -> {
                    // #19.12: NodeLocal DNSCache's usual address (node-local-dns runs on the host network: no pod
                    // selector)
                    assertThat(peer.getPodSelector()).isNull();
                    assertThat(peer.getIpBlock().getCidr()).isEqualTo("169.254.20.10/32");
                });

        V1NetworkPolicyEgressRule web = egress.get(egress.indexOf(dns) == 0 ? 1 : 0);
        assertThat(ports(web.getPorts())).containsExactlyInAnyOrder("TCP/80", "TCP/443", "TCP/9418");
        assertThat(web.getTo()).allSatisfy(peer -> {
            assertThat(peer.getPodSelector()).isNull();
            assertThat(peer.getNamespaceSelector()).isNull();
            assertThat(peer.getIpBlock()).isNotNull();
        });
        Map<String, List<String>> blocks = web.getTo().stream()
                .map(V1NetworkPolicyPeer::getIpBlock)
                .collect(Collectors.toMap(b -> b.getCidr(), b -> b.getExcept() == null ? List.of() : b.getExcept()));
        assertThat(blocks).containsOnlyKeys("0.0.0.0/0", "::/0");
        assertThat(blocks.get("0.0.0.0/0")).containsAll(PRIVATE_V4);
        assertThat(blocks.get("::/0")).containsAll(PRIVATE_V6);
    }

    private static List<String> ports(List<V1NetworkPolicyPort> ports) {
        List<String> out = new ArrayList<>();
        for (V1NetworkPolicyPort p : ports == null ? List.<V1NetworkPolicyPort>of() : ports) {
            assertThat(p.getEndPort()).as("port ranges").isNull();
            out.add((p.getProtocol() == null ? "TCP" : p.getProtocol()) + "/" + p.getPort());
        }
        return out;
    }

    private static String metadataNamespace(Object object) {
        try {
            Object metadata = object.getClass().getMethod("getMetadata").invoke(object);
            return (String) metadata.getClass().getMethod("getNamespace").invoke(metadata);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** The ConfigMap's application.yml as flat Spring property names (list items as name[i]). */
    private static Map<String, Object> configKeys(Rendered r) {
        V1ConfigMap config = r.one(V1ConfigMap.class, "ferry-config");
        assertThat(config.getData()).containsOnlyKeys("application.yml");
        return flatten(new org.yaml.snakeyaml.Yaml().load(config.getData().get("application.yml")), "", false);
    }

    private static Binder binder(Rendered r) {
        V1ConfigMap config = r.one(V1ConfigMap.class, "ferry-config");
        Map<String, Object> flat =
                flatten(new org.yaml.snakeyaml.Yaml().load(config.getData().get("application.yml")), "", true);
        return new Binder(new MapConfigurationPropertySource(flat));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> flatten(Object yaml, String prefix, boolean indexLists) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (yaml instanceof Map<?, ?> map) {
            map.forEach(
                    (k, v) -> out.putAll(flatten(v, prefix.isEmpty() ? k.toString() : prefix + "." + k, indexLists)));
        } else if (yaml instanceof List<?> list && indexLists) {
            for (int i = 0; i < list.size(); i++) {
                out.putAll(flatten(list.get(i), prefix + "[" + i + "]", true));
            }
        } else {
            out.put(prefix, yaml == null ? "" : yaml);
        }
        return out;
    }

    /** Ferry's @ConfigurationProperties records and their prefixes. */
    private static Map<Class<?>, String> configurationProperties() throws ClassNotFoundException {
        ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false);
        scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
        Map<Class<?>, String> out = new LinkedHashMap<>();
        for (var candidate : scanner.findCandidateComponents("dev.ferry")) {
            Class<?> type = Class.forName(candidate.getBeanClassName());
            ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
            out.put(type, annotation.prefix().isEmpty() ? annotation.value() : annotation.prefix());
        }
        return out;
    }

    /** The setting names a record declares, nested records followed; Map-valued settings accept any key below. */
    private static void settings(Class<?> type, String prefix, Set<String> names, Set<String> mapPrefixes) {
        if (!type.isRecord()) {
            return;
        }
        for (RecordComponent component : type.getRecordComponents()) {
            String name = prefix + "."
                    + component
                            .getName()
                            .replaceAll("([a-z0-9])([A-Z])", "$1-$2")
                            .toLowerCase();
            Class<?> valueType = component.getType();
            if (valueType.isRecord() && valueType.getPackageName().startsWith("dev.ferry")) {
                settings(valueType, name, names, mapPrefixes);
            } else {
                names.add(name);
                if (Map.class.isAssignableFrom(valueType)) {
                    mapPrefixes.add(name);
                }
            }
        }
    }

    /** One kustomization rendered by kubectl and read into the client's typed models. */
    private record Rendered(String dir, List<Object> objects) {

        static Rendered of(String kubectl, String dir) throws IOException, InterruptedException {
            Path stderr = Files.createTempFile("kustomize", ".err");
            try {
                Process process = new ProcessBuilder(kubectl, "kustomize", dir)
                        .redirectError(stderr.toFile())
                        .start();
                String yaml = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(process.waitFor(60, TimeUnit.SECONDS))
                        .as("kubectl kustomize %s finished", dir)
                        .isTrue();
                assertThat(process.exitValue())
                        .as("kubectl kustomize %s: %s", dir, Files.readString(stderr))
                        .isZero();
                List<Object> objects = Yaml.loadAll(yaml);
                assertThat(objects).as("objects of %s", dir).isNotEmpty().doesNotContainNull();
                return new Rendered(dir, objects);
            } finally {
                Files.deleteIfExists(stderr);
            }
        }

        <T> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T> T one(Class<T> type, String name) {
            List<T> named =
                    all(type).stream().filter(o -> name.equals(metadataName(o))).toList();
            assertThat(named).as("%s %s in %s", type.getSimpleName(), name, dir).hasSize(1);
            return named.get(0);
        }

        Set<String> kinds() {
            return objects.stream()
                    .map(o -> {
                        try {
                            return (String) o.getClass().getMethod("getKind").invoke(o);
                        } catch (ReflectiveOperationException e) {
                            throw new AssertionError(e);
                        }
                    })
                    .collect(Collectors.toSet());
        }

        private static String metadataName(Object object) {
            try {
                Object metadata = object.getClass().getMethod("getMetadata").invoke(object);
                return (String) metadata.getClass().getMethod("getName").invoke(metadata);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }
}
