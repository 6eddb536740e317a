package dev.ferry.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Talks to a Jupyter server through Ferry the way a notebook page does: REST with {@code Authorization: token …} and
 * the kernel WebSocket (Jupyter's JSON message protocol) with {@code ?token=}.
 */
public final class JupyterClient {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String baseUrl;
    private final String token;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** {@code baseUrl} is the {@code url} of the ready event (ends with a slash). */
    public JupyterClient(String baseUrl, String token) {
        this.baseUrl = baseUrl;
        this.token = token;
    }

    public HttpResponse<String> get(String path) throws Exception {
        return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("Authorization", "token " + token)
                .timeout(Duration.ofSeconds(60));
    }

    public HttpClient http() {
        return http;
    }

    /** Starts a kernel over REST and returns its id. */
    public String startKernel() throws Exception {
        return startKernel(null);
    }

    /** Starts a kernel of the given kernelspec ({@code ir}, {@code python3}; null: the server's default). */
    public String startKernel(String name) throws Exception {
        String body = name == null ? "{}" : "{\"name\": \"" + name + "\"}";
        HttpResponse<String> r = http.send(
                request("api/kernels")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new AssertionError("kernel start answered " + r.statusCode() + ": " + r.body());
        }
        return (String) JSON.readValue(r.body(), new TypeReference<Map<String, Object>>() {})
                .get("id");
    }

    /**
     * Executes code in the kernel over its WebSocket and returns everything it printed to stdout — all stream messages
     * of this request, up to the kernel's idle status for it (a kernel may split one print over several messages).
     */
    public String execute(String kernelId, String code) throws Exception {
        String ws = "ws" + baseUrl.substring(4) + "api/kernels/" + kernelId + "/channels?token=" + token;
        CompletableFuture<String> output = new CompletableFuture<>();
        StringBuilder partial = new StringBuilder();
        StringBuilder printed = new StringBuilder();
        String msgId = UUID.randomUUID().toString();
        WebSocket socket = http.newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(ws), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            Map<String, Object> msg =
                                    JSON.readValue(partial.toString(), new TypeReference<Map<String, Object>>() {});
                            partial.setLength(0);
                            Object parent = msg.get("parent_header") instanceof Map<?, ?> p ? p.get("msg_id") : null;
                            Map<?, ?> content = (Map<?, ?>) msg.get("content");
                            if (!msgId.equals(parent)) {
                                // another request's message (or a kernel-wide status)
                            } else if ("stream".equals(msg.get("msg_type")) && "stdout".equals(content.get("name"))) {
                                printed.append((String) content.get("text"));
                            } else if ("status".equals(msg.get("msg_type"))
                                    && "idle".equals(content.get("execution_state"))) {
                                output.complete(printed.toString());
                            } else if ("error".equals(msg.get("msg_type"))) {
                                output.completeExceptionally(new AssertionError("kernel error: " + msg.get("content")));
                            }
                        }
                        webSocket.request(1);
                        return null;
                    }

                    @Override
                    public void onError(WebSocket webSocket, Throwable error) {
                        output.completeExceptionally(error);
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                        output.completeExceptionally(
                                new AssertionError("kernel WebSocket closed: " + statusCode + " " + reason));
                        return null;
                    }
                })
                .get(20, TimeUnit.SECONDS);
        try {
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("msg_id", msgId);
            header.put("username", "test");
            header.put("session", UUID.randomUUID().toString());
            header.put("msg_type", "execute_request");
            header.put("version", "5.3");
            Map<String, Object> content = new LinkedHashMap<>();
            content.put("code", code);
            content.put("silent", false);
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("header", header);
            msg.put("parent_header", Map.of());
            msg.put("metadata", Map.of());
            msg.put("content", content);
            msg.put("channel", "shell");
            socket.sendText(JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
            return output.get(60, TimeUnit.SECONDS);
        } finally {
            socket.abort();
        }
    }
}
