package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * {@link RegistryClient}'s answers to what a real registry on this machine does not produce: redirects, server
 * errors, odd challenges, a token service answering {@code access_token}. A small scripted server on 127.0.0.1
 * stands in for the registry; the flows against the real registry are in the other {@code RegistryClient*Test}s.
 */
class RegistryClientTest {

    private static final String PASSWORD = "s3cret-Pa55word";

    private HttpServer registry;
    private HttpServer elsewhere;
    private final Map<String, Script> scripts = new ConcurrentHashMap<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final List<String> elsewhereHits = new CopyOnWriteArrayList<>();

    /** What the scripted registry answers on one path. */
    private interface Script {
        void answer(HttpExchange exchange) throws IOException;
    }

    @BeforeEach
    void startServers() throws IOException {
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/", exchange -> {
            try (exchange) {
                authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
                Script script = scripts.get(exchange.getRequestURI().getPath());
                if (script == null) {
                    exchange.sendResponseHeaders(404, -1);
                } else {
                    script.answer(exchange);
                }
            }
        });
        registry.start();
        elsewhere = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        elsewhere.createContext("/", exchange -> {
            try (exchange) {
                elsewhereHits.add(exchange.getRequestURI().toString());
                exchange.sendResponseHeaders(200, -1);
            }
        });
        elsewhere.start();
    }

    @AfterEach
    void stopServers() {
        registry.stop(0);
        elsewhere.stop(0);
    }

    private String host() {
        return "127.0.0.1:" + registry.getAddress().getPort();
    }

    private RegistryClient client(String username, String password) {
        return new RegistryClient(new RegistryProperties(host() + "/ferry/", "", true, username, password));
    }

    private static Script status(int status, String... headers) {
        return exchange -> {
            for (int i = 0; i < headers.length; i += 2) {
                exchange.getResponseHeaders().add(headers[i], headers[i + 1]);
            }
            exchange.sendResponseHeaders(status, -1);
        };
    }

    private static Script json(String body) {
        return exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
        };
    }

    @Test
    void asksForTheManifestWithEveryManifestMediaType() {
        scripts.put("/v2/ferry/demo/manifests/abc", exchange -> {
            String accept = exchange.getRequestHeaders().getFirst("Accept");
            boolean all = accept.contains("application/vnd.oci.image.index.v1+json")
                    && accept.contains("application/vnd.oci.image.manifest.v1+json")
                    && accept.contains("application/vnd.docker.distribution.manifest.list.v2+json")
                    && accept.contains("application/vnd.docker.distribution.manifest.v2+json");
            exchange.sendResponseHeaders(all && exchange.getRequestMethod().equals("HEAD") ? 200 : 400, -1);
        });
        assertThat(client("", "").exists("ferry/demo", "abc")).isTrue();
    }

    @Test
    void followsARedirectWithinTheRegistryWithTheSameCredentials() {
        scripts.put("/v2/ferry/demo/manifests/abc", exchange -> {
            if (exchange.getRequestHeaders().getFirst("Authorization") == null) {
                status(401, "WWW-Authenticate", "Basic realm=\"test\"").answer(exchange);
            } else {
                status(307, "Location", "/mirror/ferry/demo/abc").answer(exchange);
            }
        });
        scripts.put(
                "/mirror/ferry/demo/abc",
                exchange -> exchange.sendResponseHeaders(
                        exchange.getRequestHeaders().getFirst("Authorization") == null ? 401 : 200, -1));
        assertThat(client("ferry", PASSWORD).exists("ferry/demo", "abc")).isTrue();
        assertThat(authorizations).hasSize(3).last().asString().startsWith("Basic ");
    }

    @Test
    void aTemporaryRedirectToBlobStorageMeansTheImageExistsWithoutContactingTheStorage() {
        String storage = "http://127.0.0.1:" + elsewhere.getAddress().getPort() + "/blobs/sha256-abc?signature=x";
        scripts.put("/v2/ferry/demo/manifests/abc", status(307, "Location", storage));
        assertThat(client("ferry", PASSWORD).exists("ferry/demo", "abc")).isTrue();
        assertThat(elsewhereHits).isEmpty();
    }

    @Test
    void aPermanentRedirectElsewhereIsAnErrorSayingToFixTheUrl() {
        scripts.put(
                "/v2/ferry/demo/manifests/abc",
                status(301, "Location", "https://" + host() + "/v2/ferry/demo/manifests/abc"));
        assertThatThrownBy(() -> client("", "").exists("ferry/demo", "abc"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining(host())
                .hasMessageContaining("HTTP 301")
                .hasMessageContaining("set ferry.registry.url");
    }

    @Test
    void aServerErrorNamesTheHostAndTheStatus() {
        scripts.put("/v2/ferry/demo/manifests/abc", status(503));
        assertThatThrownBy(() -> client("ferry", PASSWORD).exists("ferry/demo", "abc"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining(host())
                .hasMessageContaining("HTTP 503")
                .message()
                .doesNotContain(PASSWORD);
    }

    @Test
    void aChallengeWithoutAKnownSchemeIsAnError() {
        scripts.put("/v2/ferry/demo/manifests/abc", status(401, "WWW-Authenticate", "Negotiate abc=="));
        assertThatThrownBy(() -> client("ferry", PASSWORD).exists("ferry/demo", "abc"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("Negotiate")
                .hasMessageContaining("Basic and Bearer");
    }

    @Test
    void anAccessTokenFieldIsAcceptedAndSentAsBearer() {
        String realm = "http://" + host() + "/token";
        scripts.put("/token", json("{\"access_token\":\"the-token\"}"));
        scripts.put("/v2/ferry/demo/manifests/abc", exchange -> {
            if ("Bearer the-token".equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.sendResponseHeaders(200, -1);
            } else {
                status(
                                401,
                                "WWW-Authenticate",
                                "Bearer realm=\"" + realm + "\",service=\"test\","
                                        + "scope=\"repository:ferry/demo:pull\"")
                        .answer(exchange);
            }
        });
        assertThat(client("", "").exists("ferry/demo", "abc")).isTrue();
    }

    @Test
    void aTokenTheRegistryNoLongerTakesIsReplacedOnce() {
        String realm = "http://" + host() + "/token";
        int[] issued = {0};
        scripts.put(
                "/token",
                exchange -> json("{\"token\":\"token-" + ++issued[0] + "\",\"expires_in\":3600}")
                        .answer(exchange));
        String[] accepted = {"Bearer token-1"};
        scripts.put("/v2/ferry/demo/manifests/abc", exchange -> {
            if (accepted[0].equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.sendResponseHeaders(200, -1);
            } else {
                status(401, "WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"test\"")
                        .answer(exchange);
            }
        });
        RegistryClient client = client("", "");
        assertThat(client.exists("ferry/demo", "abc")).isTrue();
        accepted[0] = "Bearer token-2"; // the registry revoked token-1 before it expired
        assertThat(client.exists("ferry/demo", "abc")).isTrue();
        assertThat(issued[0]).isEqualTo(2);
    }

    @Test
    void anHttpClientThatFollowsRedirectsIsRefused() {
        HttpClient following = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        RegistryProperties props = new RegistryProperties(host() + "/ferry/", "", true, "", "");
        assertThatThrownBy(() -> new RegistryClient(props, following))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Redirect.NEVER");
    }

    @Test
    void namesThatCouldLeaveThePathAreRefusedBeforeAnyRequest() {
        assertThatThrownBy(() -> client("", "").exists("ferry/../../admin", "abc"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> client("", "").exists("ferry/demo", "abc?x=1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(authorizations).isEmpty();
    }
}
