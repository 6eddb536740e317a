package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;
import io.kubernetes.client.util.PatchUtils;
import okhttp3.OkHttpClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * The API server, as Ferry talks to it: one client for requests (short timeouts) and one for watches and log streams
 * (no read timeout); the namespace of Ferry's own objects (workshops' ConfigMaps, the Lease), and those of session
 * Pods and build Jobs, which may be others.
 */
final class KubeApi {

    private static final Path SA_NAMESPACE = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");

    final String namespace;
    /** Where session Pods are created, watched and deleted. */
    final String sessionsNamespace;
    /** Where build Jobs (and their Pods, events and logs) are. */
    final String buildsNamespace;

    final ApiClient client;
    final ApiClient streaming;

    KubeApi(String namespace, ApiClient client, ApiClient streaming) {
        this(namespace, namespace, namespace, client, streaming);
    }

    KubeApi(String namespace, String sessionsNamespace, String buildsNamespace, ApiClient client, ApiClient streaming) {
        this.namespace = namespace;
        this.sessionsNamespace = sessionsNamespace;
        this.buildsNamespace = buildsNamespace;
        this.client = client;
        this.streaming = streaming;
    }

    static KubeApi create(KubernetesProperties properties, List<KubernetesHttpCustomizer> customizers) {
        try {
            ApiClient base = client(properties);
            ApiClient streaming = client(properties);
            base.setHttpClient(customize(
                    base.getHttpClient()
                            .newBuilder()
                            .connectTimeout(Duration.ofSeconds(5))
                            .readTimeout(Duration.ofSeconds(30)),
                    customizers));
            streaming.setHttpClient(customize(
                    streaming
                            .getHttpClient()
                            .newBuilder()
                            .connectTimeout(Duration.ofSeconds(5))
                            .readTimeout(Duration.ZERO)
                            .pingInterval(Duration.ofSeconds(30)),
                    customizers));
            String own = namespace(properties);
            return new KubeApi(
                    own,
                    orElse(properties.sessionsNamespace(), own),
                    orElse(properties.buildsNamespace(), own),
                    base,
                    streaming);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "The kubernetes platform could not read its cluster configuration "
                            + "(in-cluster service account or kubeconfig): " + e.getMessage()
                            + ". Set ferry.kubernetes.api-url, or run Ferry in the cluster.",
                    e);
        }
    }

    private static ApiClient client(KubernetesProperties properties) throws IOException {
        if (!properties.apiUrl().isBlank()) {
            return new ClientBuilder()
                    .setBasePath(properties.apiUrl().replaceAll("/+$", ""))
                    .build();
        }
        if (!properties.kubeconfig().isBlank()) {
            try (var reader = Files.newBufferedReader(Path.of(properties.kubeconfig()))) {
                return ClientBuilder.kubeconfig(KubeConfig.loadKubeConfig(reader))
                        .build();
            }
        }
        return ClientBuilder.standard().build();
    }

    private static String orElse(String namespace, String own) {
        return namespace == null || namespace.isBlank() ? own : namespace.trim();
    }

    private static OkHttpClient customize(OkHttpClient.Builder builder, List<KubernetesHttpCustomizer> customizers) {
        customizers.forEach(c -> c.customize(builder));
        return builder.build();
    }

    private static String namespace(KubernetesProperties properties) {
        if (!properties.namespace().isBlank()) {
            return properties.namespace();
        }
        try {
            if (Files.isReadable(SA_NAMESPACE)) {
                return Files.readString(SA_NAMESPACE).trim();
            }
        } catch (IOException e) {
            // fall through
        }
        return "default";
    }

    CoreV1Api core() {
        return new CoreV1Api(client);
    }

    CoreV1Api coreStreaming() {
        return new CoreV1Api(streaming);
    }

    BatchV1Api batch() {
        return new BatchV1Api(client);
    }

    CoordinationV1Api coordination() {
        return new CoordinationV1Api(client);
    }

    /** Applies a JSON merge patch to a session Pod (annotations; a resourceVersion in it is a precondition). */
    void mergePatchPod(String name, String patch) throws ApiException {
        PatchUtils.patch(
                V1Pod.class,
                () -> core().patchNamespacedPod(name, sessionsNamespace, new V1Patch(patch))
                        .buildCall(null),
                V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
                client);
    }

    /** A sentence about a failed API call, without the response body's noise. */
    static String describe(ApiException e) {
        if (e.getCode() == 0) {
            return "the Kubernetes API server could not be reached ("
                    + (e.getCause() == null
                            ? e.getMessage()
                            : e.getCause().getClass().getSimpleName() + ": "
                                    + e.getCause().getMessage())
                    + ")";
        }
        String message = e.getResponseBody();
        try {
            if (message != null && message.contains("\"message\"")) {
                var tree = JsonMapper.builder().build().readTree(message);
                message = tree.path("message").asString();
            }
        } catch (RuntimeException ignored) {
            // keep the raw body
        }
        if (message == null || message.isBlank()) {
            message = e.getMessage();
        }
        if (message != null && message.length() > 300) {
            message = message.substring(0, 300) + "…";
        }
        return "the Kubernetes API answered " + e.getCode() + ": " + message;
    }
}
