package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okio.BufferedSink;
import okio.ForwardingSource;
import okio.Okio;
import okio.Pipe;

/**
 * The Kubernetes API double: fabric8's mock API server in mixed mode (CRUD plus expectations), on loopback. Ferry's real
 * code talks to it through the official client. The mock serves watches only as WebSocket upgrades, so
 * {@link #watchBridge()} — a test-only HTTP client customizer — turns each {@code watch=true} request into a WebSocket
 * and pipes its frames, one event per line, into an ordinary streaming response body, which is what the official
 * client's {@code Watch} and informers read from a real API server. Before the mock answers, {@link ApiServerRules}
 * refuses what a real API server would — the portal's requests the Role of {@code deploy/base} does not grant or whose
 * bodies do not decode strictly against the API's schema, Pods with {@code overhead} but no RuntimeClass, Pods that
 * break their namespace's Pod Security level ({@link #namespace}) — and writes the server's defaults into created Pods
 * and Jobs. {@link #expireWatches()} ends watches with 410 Gone as a real server's watch cache does.
 */
final class KubeApiDouble implements AutoCloseable {

    static final String NAMESPACE = "ferry-test";

    private final KubernetesMockServer server;
    /** What a real API server would refuse (RBAC of deploy/, admission): checked before the mock answers. */
    final ApiServerRules rules;

    private final NamespacedKubernetesClient fabric8;
    private final OkHttpClient webSockets =
            new OkHttpClient.Builder().readTimeout(Duration.ZERO).build();
    /** The portal's open watches and the streams their events go to. */
    private final Map<WebSocket, BufferedSink> openWatches = new java.util.concurrent.ConcurrentHashMap<>();
    /** The resourceVersion each open watch was asked from ("" for none), for the 410's message. */
    private final Map<WebSocket, String> watchedFrom = new java.util.concurrent.ConcurrentHashMap<>();
    /** Watches from a resourceVersion older than this end at once with 410 Gone ({@link #expireWatches()}). */
    private volatile long expiredBefore;

    private volatile boolean down;
    /** Lists and watches the portal's clients sent while the API server was down. */
    final java.util.concurrent.atomic.AtomicInteger listsRefused = new java.util.concurrent.atomic.AtomicInteger();

    final java.util.concurrent.atomic.AtomicInteger watchesRefused = new java.util.concurrent.atomic.AtomicInteger();

    KubeApiDouble() {
        this(0);
    }

    /** On a chosen port (a portal may be told the address before the API server is up). */
    KubeApiDouble(int port) {
        this(port, ApiServerRules.deployedRole());
    }

    /** Enforcing these rules as the portal's Role instead of deploy/'s (a Role an operator got wrong). */
    KubeApiDouble(java.util.List<io.kubernetes.client.openapi.models.V1PolicyRule> role) {
        this(0, role);
    }

    private KubeApiDouble(int port, java.util.List<io.kubernetes.client.openapi.models.V1PolicyRule> role) {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        rules = new ApiServerRules(role);
        KubernetesMixedDispatcher dispatcher = new KubernetesMixedDispatcher(responses) {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                MockResponse review = rules.accessReview(request);
                if (review != null) {
                    return review;
                }
                MockResponse refused = rules.refusal(request);
                if (refused == null) {
                    refused = rules.webhookRefusal(request);
                }
                if (refused != null) {
                    return refused;
                }
                MockResponse dryRun = rules.dryRun(request); // admitted as a real create would be, then not stored
                if (dryRun != null) {
                    return dryRun;
                }
                RecordedRequest defaulted = rules.defaulted(request);
                RecordedRequest stored = defaulted != null ? defaulted : request;
                return rules.observe(stored, super.dispatch(stored));
            }
        };
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, dispatcher, false);
        server.init(InetAddress.getLoopbackAddress(), port);
        fabric8 = server.createClient();
    }

    String url() {
        return server.url("/").replaceAll("/+$", "");
    }

    KubernetesMockServer server() {
        return server;
    }

    /** A client for the test's stand-ins (kubelet, Job controller) and assertions: not Ferry's code path. */
    NamespacedKubernetesClient fabric8() {
        return fabric8;
    }

    /**
     * An API outage as the portal sees it: until {@link #up()}, every request of the portal's clients (those with the
     * {@link #watchBridge()}) is refused as by an API server that is not listening, and the watches open now break.
     * The test's own fabric8 client still reaches the double, to change the cluster meanwhile.
     */
    void down() throws InterruptedException {
        down = true;
        // the portal's open watches end as their connections would; gracefully on the mock's side (see endWatches)
        endWatches(java.util.List.copyOf(openWatches.entrySet()), null, "down");
    }

    void up() {
        down = false;
    }

    /**
     * Creates (or relabels) a namespace as an operator would, e.g. {@code pod-security.kubernetes.io/enforce=restricted}:
     * Pod Security admission then applies its level to every Pod created in it.
     */
    void namespace(String name, Map<String, String> labels) {
        var namespace = new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .build();
        if (fabric8.namespaces().withName(name).get() == null) {
            fabric8.namespaces().resource(namespace).create();
        } else {
            fabric8.namespaces()
                    .withName(name)
                    .edit(n -> new io.fabric8.kubernetes.api.model.NamespaceBuilder(n)
                            .editMetadata()
                            .withLabels(labels)
                            .endMetadata()
                            .build());
        }
    }

    /** Removes a namespace's object (and so its Pod Security labels); what it held stays, unlike on a real cluster. */
    void deleteNamespace(String name) {
        fabric8.namespaces().withName(name).delete();
    }

    /**
     * The API server's watch cache moves past every resourceVersion handed out so far (etcd compacted them): each open
     * watch of the portal ends with the {@code ERROR} event of a 410 Gone ({@code too old resource version}), and a
     * watch asked from an older resourceVersion gets the same at once, as from a real server. An informer must list
     * again to go on; one that only watches again sees nothing more.
     */
    void expireWatches() throws InterruptedException {
        // the cluster moves on (a write elsewhere, seen by no watch of the portal's): a list from now on answers a
        // resourceVersion a watch may start from; every resourceVersion the portal saw before is too old
        var marker = new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withName("compaction")
                .withNamespace("kube-system")
                .endMetadata()
                .build();
        fabric8.configMaps().inNamespace("kube-system").resource(marker).create();
        fabric8.configMaps().inNamespace("kube-system").withName("compaction").delete();
        long current = rules.newestResourceVersion();
        expiredBefore = current;
        endWatches(java.util.List.copyOf(openWatches.entrySet()), current, "expired");
    }

    /**
     * Ends the portal's watches: each stream gets the 410 Gone error event first when {@code goneAt} is given, then
     * ends; the mock's side of each watch is closed gracefully. Cancelled instead, fabric8's mock blocks its event loop
     * while an event is being sent on the watch (up to a minute), so this waits until the closes have finished before
     * the test changes the cluster again.
     */
    private void endWatches(java.util.List<Map.Entry<WebSocket, BufferedSink>> ending, Long goneAt, String reason)
            throws InterruptedException {
        ending.forEach(e -> {
            BufferedSink sink = e.getValue();
            synchronized (sink) {
                try {
                    if (goneAt != null) {
                        sink.writeUtf8(gone(watchedFrom.getOrDefault(e.getKey(), ""), goneAt) + "\n");
                        sink.flush();
                    }
                    sink.close();
                } catch (IOException | IllegalStateException ignored) {
                    // the reader went away
                }
            }
            e.getKey().close(1000, reason);
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (ending.stream().anyMatch(e -> openWatches.containsKey(e.getKey())) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        Thread.sleep(500);
    }

    private static String gone(String asked, long current) {
        return "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                + "\"status\":\"Failure\",\"message\":\"too old resource version: " + asked + " (" + current + ")\","
                + "\"reason\":\"Expired\",\"code\":410}}";
    }

    /** A client as the portal's: its requests marked by {@link #watchBridge()}, so that RBAC and strict decoding apply. */
    ApiClient portalClient() throws IOException {
        ApiClient client = Config.fromUrl(url(), false);
        var builder = client.getHttpClient().newBuilder();
        watchBridge().customize(builder);
        client.setHttpClient(builder.build());
        return client;
    }

    KubernetesHttpCustomizer watchBridge() {
        return builder -> builder.addInterceptor(chain -> {
            // the portal's requests, for RBAC: the test's own stand-ins act as the cluster and are not checked
            Request request = chain.request()
                    .newBuilder()
                    .header(ApiServerRules.PORTAL, "true")
                    .build();
            boolean watch = "true".equals(request.url().queryParameter("watch"));
            if (down) {
                if ("GET".equals(request.method())) {
                    (watch ? watchesRefused : listsRefused).incrementAndGet();
                }
                throw new java.net.ConnectException("Failed to connect to "
                        + request.url().host() + ":" + request.url().port() + " (Connection refused)");
            }
            if (!watch) {
                return chain.proceed(request);
            }
            return watchOverWebSocket(request);
        });
    }

    /** A 200 answer with a JSON body, as the API server streams a watch. */
    private static Response okJson(Request request, ResponseBody body) {
        return new Response.Builder()
                .request(request)
                .protocol(Protocol.HTTP_1_1)
                .code(200)
                .message("OK")
                .header("Content-Type", "application/json")
                .body(body)
                .build();
    }

    private Response watchOverWebSocket(Request request) throws IOException {
        String asked = request.url().queryParameter("resourceVersion");
        long horizon = expiredBefore;
        if (asked != null && asked.matches("\\d{1,18}") && Long.parseLong(asked) < horizon) {
            return okJson(request, ResponseBody.create(gone(asked, horizon) + "\n", MediaType.get("application/json")));
        }
        Pipe pipe = new Pipe(4 << 20);
        BufferedSink sink = Okio.buffer(pipe.sink());
        CompletableFuture<Void> opened = new CompletableFuture<>();
        WebSocket socket = webSockets.newWebSocket(request.newBuilder().build(), new WebSocketListener() {
            @Override
            public void onOpen(WebSocket webSocket, Response response) {
                openWatches.put(webSocket, sink);
                watchedFrom.put(webSocket, asked == null ? "" : asked);
                opened.complete(null);
            }

            @Override
            public void onMessage(WebSocket webSocket, String text) {
                synchronized (sink) {
                    try {
                        sink.writeUtf8(text);
                        if (!text.endsWith("\n")) {
                            sink.writeUtf8("\n");
                        }
                        sink.flush();
                    } catch (IOException | IllegalStateException e) { // the reader went away, or the watch expired
                        webSocket.cancel();
                    }
                }
            }

            @Override
            public void onClosing(WebSocket webSocket, int code, String reason) {
                webSocket.close(1000, null);
                end(webSocket);
            }

            @Override
            public void onFailure(WebSocket webSocket, Throwable t, Response response) {
                opened.completeExceptionally(t);
                end(webSocket);
            }

            private void end(WebSocket webSocket) {
                openWatches.remove(webSocket);
                watchedFrom.remove(webSocket);
                synchronized (sink) {
                    try {
                        sink.close();
                    } catch (IOException ignored) {
                        // the reader went away
                    }
                }
            }
        });
        try {
            opened.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            socket.cancel();
            throw new IOException("interrupted opening a watch", e);
        } catch (ExecutionException | TimeoutException e) {
            socket.cancel();
            throw new IOException("the API double refused the watch: " + e.getMessage(), e);
        }
        var source = Okio.buffer(new ForwardingSource(pipe.source()) {
            @Override
            public void close() throws IOException {
                socket.cancel();
                super.close();
            }
        });
        return okJson(request, ResponseBody.create(source, MediaType.get("application/json"), -1));
    }

    @Override
    public void close() {
        fabric8.close();
        server.destroy();
        webSockets.dispatcher().executorService().shutdown();
        webSockets.connectionPool().evictAll();
    }
}
