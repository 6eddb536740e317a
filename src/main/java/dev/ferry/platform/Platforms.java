package dev.ferry.platform;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import org.springframework.core.env.Environment;

/**
 * Which platform runs builds and sessions: {@code ferry.platform} = {@code local}, {@code kubernetes}, or
 * {@code auto}, which chooses kubernetes when a cluster is configured (in-cluster service account, or a kubeconfig)
 * and a registry is named ({@code ferry.registry.prefix}), and local otherwise.
 */
public final class Platforms {

    public static final String LOCAL = "local";
    public static final String KUBERNETES = "kubernetes";

    private Platforms() {}

    public static String chosen(Environment environment) {
        String setting =
                environment.getProperty("ferry.platform", "auto").trim().toLowerCase(Locale.ROOT);
        switch (setting) {
            case LOCAL, KUBERNETES:
                return setting;
            case "auto":
                // a cluster alone is not enough: builds need a registry to push to
                return registryConfigured(environment)
                                && clusterConfigured(System.getenv(), Path.of(System.getProperty("user.home")))
                        ? KUBERNETES
                        : LOCAL;
            default:
                throw new IllegalStateException(
                        "ferry.platform must be auto, local or kubernetes, not '" + setting + "'");
        }
    }

    static boolean registryConfigured(Environment environment) {
        return !environment.getProperty("ferry.registry.prefix", "").isBlank();
    }

    static boolean clusterConfigured(Map<String, String> env, Path home) {
        boolean inCluster = env.containsKey("KUBERNETES_SERVICE_HOST")
                && Files.exists(Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token"));
        String kubeconfig = env.get("KUBECONFIG");
        boolean hasKubeconfig =
                (kubeconfig != null && !kubeconfig.isBlank()) || Files.isRegularFile(home.resolve(".kube/config"));
        return inCluster || hasKubeconfig;
    }
}
