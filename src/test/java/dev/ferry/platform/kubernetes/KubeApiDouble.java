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
 * refuses what a real API server would: the portal's requests the Role of {@code deploy/base} does not grant, and Pods
 * with {@code overhead} but no RuntimeClass.
 */
final class KubeApiDouble implements AutoCloseable {

    static final String NAMESPACE = "ferry-test";

    private final KubernetesMockServer server;
    /** What a real API server would refuse (RBAC of deploy/, admission): checked before the mock answers. */
    final ApiServerRules rules;
    private final NamespacedKubernetesClient fabric8;
    private final OkHttpClient webSockets = new OkHttpClient.Builder().readTimeout(Duration.ZERO).build();
    private final java.util.Set<WebSocket> openWatches = java.util.concurrent.ConcurrentHashMap.newKeySet();
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
                MockResponse dryRun = refused == null ? rules.dryRun(request) : null;
                return refused != null ? refused : dryRun != null ? dryRun : super.dispatch(request);
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
    void down() {
        down = true;
        openWatches.forEach(WebSocket::cancel);
    }

    void up() {
        down = false;
    }

    KubernetesHttpCustomizer watchBridge() {
        return builder -> builder.addInterceptor(chain -> {
            // the portal's requests, for RBAC: the test's own stand-ins act as the cluster and are not checked
            Request request = chain.request().newBuilder().header(ApiServerRules.PORTAL, "true").build();
            boolean watch = "true".equals(request.url().queryParameter("watch"));
            if (down) {
                if ("GET".equals(request.method())) {
                    (watch ? watchesRefused : listsRefused).incrementAndGet();
                }
                throw new java.net.ConnectException("Failed to connect to " + request.url().host() + ":" + request.url().port()
                        + " (Connection refused)");
            }
            if (!watch) {
                return chain.proceed(request);
            }
            return watchOverWebSocket(request);
        });
    }

    private Response watchOverWebSocket(Request request) throws IOException {
        Pipe pipe = new Pipe(4 << 20);
        BufferedSink sink = Okio.buffer(pipe.sink());
        CompletableFuture<Void> opened = new CompletableFuture<>();
        WebSocket socket = webSockets.newWebSocket(request.newBuilder().build(), new WebSocketListener() {
            @Override
            public void onOpen(WebSocket webSocket, Response response) {
                openWatches.add(webSocket);
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
                    } catch (IOException e) {
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
        return new Response.Builder().request(request).protocol(Protocol.HTTP_1_1).code(200).message("OK")
                .header("Content-Type", "application/json")
                .body(ResponseBody.create(source, MediaType.get("application/json"), -1))
                .build();
    }

    @Override
    public void close() {
        fabric8.close();
        server.destroy();
        webSockets.dispatcher().executorService().shutdown();
        webSockets.connectionPool().evictAll();
    }
}
