package dev.ferry.platform.kubernetes;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.RbacAuthorizationV1Api;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import io.kubernetes.client.util.KubeConfig;
import io.kubernetes.client.util.Yaml;

import dev.ferry.testing.Parts;

/**
 * The portal's own identity on a real cluster, made with the cluster's admin credentials: the ServiceAccount, Role and
 * RoleBinding that {@code kubectl kustomize deploy/base} renders, created in a namespace, and a kubeconfig that holds a
 * short-lived token of that ServiceAccount — what the portal's Pod gets mounted, so that a test talks to the API server
 * with exactly the rights deploy/ grants.
 */
final class ServiceAccountKubeconfig {

    private ServiceAccountKubeconfig() {}

    /** Sets up {@code namespace} with deploy/base's RBAC objects; returns a kubeconfig with the ServiceAccount's token. */
    static String of(ApiClient admin, String adminKubeconfig, String namespace) throws Exception {
        CoreV1Api core = new CoreV1Api(admin);
        core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(namespace)))
                .execute();
        String serviceAccount = null;
        for (Object o : rbacObjects()) {
            if (o instanceof V1ServiceAccount sa) {
                serviceAccount = sa.getMetadata().getName();
                core.createNamespacedServiceAccount(namespace, sa).execute();
            } else if (o instanceof V1Role role) {
                new RbacAuthorizationV1Api(admin)
                        .createNamespacedRole(namespace, role)
                        .execute();
            } else if (o instanceof V1RoleBinding binding) {
                new RbacAuthorizationV1Api(admin)
                        .createNamespacedRoleBinding(namespace, binding)
                        .execute();
            }
        }
        String token = core.createNamespacedServiceAccountToken(
                        serviceAccount,
                        namespace,
                        new AuthenticationV1TokenRequest()
                                .spec(new V1TokenRequestSpec()
                                        .audiences(List.of())
                                        .expirationSeconds(3600L)))
                .execute()
                .getStatus()
                .getToken();
        return kubeconfig(adminKubeconfig, serviceAccount, token, namespace);
    }

    /** The ServiceAccount, Role and RoleBinding of {@code kubectl kustomize deploy/base}, as client-java's models. */
    static List<Object> rbacObjects() throws Exception {
        List<Object> objects = new java.util.ArrayList<>();
        for (Object o : Yaml.loadAll(renderedBase())) {
            if (o instanceof V1ServiceAccount || o instanceof V1Role || o instanceof V1RoleBinding) {
                objects.add(o);
            }
        }
        if (objects.stream().noneMatch(V1ServiceAccount.class::isInstance)) {
            throw new AssertionError("kubectl kustomize deploy/base renders no ServiceAccount");
        }
        return objects;
    }

    /** A kubeconfig for the admin kubeconfig's cluster (server, CA) with the ServiceAccount's token as its only user. */
    static String kubeconfig(String adminKubeconfig, String serviceAccount, String token, String namespace) {
        KubeConfig cluster = KubeConfig.loadKubeConfig(new StringReader(adminKubeconfig));
        return """
                apiVersion: v1
                kind: Config
                clusters:
                - name: cluster
                  cluster:
                    server: %s
                    certificate-authority-data: %s
                users:
                - name: %s
                  user:
                    token: %s
                contexts:
                - name: portal
                  context:
                    cluster: cluster
                    user: %s
                    namespace: %s
                current-context: portal
                """.formatted(
                        cluster.getServer(),
                        cluster.getCertificateAuthorityData(),
                        serviceAccount,
                        token,
                        serviceAccount,
                        namespace);
    }

    private static String renderedBase() throws Exception {
        Process p = new ProcessBuilder(Parts.requireKubectl(), "kustomize", "deploy/base")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("kubectl kustomize deploy/base failed");
        }
        return yaml;
    }
}
