package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * Visitors that open many connections and send nothing (or little) must not take every file descriptor: the front
 * door holds at most {@code ferry.proxy.max-connections} visitor connections (8 here) and at most
 * {@code ferry.proxy.max-connections-per-address} from one address (3 here), and answers the others 503 at once,
 * still accepting, so that other visitors are served. Each 127.0.0.x address stands for another visitor.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "ferry.platform=local",
            "ferry.proxy.max-connections=8",
            "ferry.proxy.max-connections-per-address=3",
            "ferry.trusted-proxies=127.0.0.20"
        })
class FrontDoorConnectionCapTest extends ScriptedUpstreamBase {

    private static final String SESSION = "connectioncapsessionaaaaaaaaaaa";
    private static final String SESSION_PATH = "/user/" + SESSION + "/x";

    @Autowired
    ProxyMetrics metrics;

    private final List<Socket> held = new ArrayList<>();

    @Override
    String session() {
        return SESSION;
    }

    @AfterEach
    void closeHeld() throws IOException {
        for (Socket s : held) {
            s.close();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.openConnections() == 0);
    }

    /** Connections that send nothing, from {@code address}, kept open until the test ends. */
    private void hold(String address, int connections) throws IOException {
        for (int i = 0; i < connections; i++) {
            held.add(LoopbackVisitors.from(address, port));
        }
    }

    /** A connection from {@code address} that sends a request and must be answered 503 and closed. */
    private LoopbackVisitors.Response refused(String address) throws IOException {
        try (Socket s = LoopbackVisitors.from(address, port)) {
            ProxyStreamingTest.send(s, "GET / HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
            InputStream in = LoopbackVisitors.in(s);
            LoopbackVisitors.Response response = LoopbackVisitors.read(in);
            assertThat(response.status()).isEqualTo(503);
            assertThat(response.field("Retry-After")).isEqualTo("5");
            assertThat(response.field("Connection")).isEqualTo("close");
            assertThat(in.read()).as("then the connection ends").isEqualTo(-1);
            return response;
        }
    }

    /** A visitor from {@code address} gets the portal's home page and a session's answer. */
    private void served(String address) throws IOException {
        try (Socket s = LoopbackVisitors.from(address, port)) {
            InputStream in = LoopbackVisitors.in(s);
            assertThat(LoopbackVisitors.get(s, in, "/").status())
                    .as("the portal from %s", address)
                    .isEqualTo(200);
            assertThat(LoopbackVisitors.get(s, in, SESSION_PATH).body())
                    .as("a session from %s", address)
                    .isEqualTo("ok");
        }
    }

    @Test
    void connectionsBeyondOneAddressesCapGet503WhileAnotherAddressIsServed() throws Exception {
        LoopbackVisitors.answerEverything(upstream);
        long before = metrics.refusedAtAddressCap();
        hold("127.0.0.5", 3);
        for (int i = 0; i < 4; i++) {
            assertThat(refused("127.0.0.5").body())
                    .contains("Too many connections are open from your address (at most 3).");
        }
        served("127.0.0.6");
        assertThat(metrics.refusedAtAddressCap() - before).isEqualTo(4);
        held.remove(0).close();
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.openConnections() == 2);
        served("127.0.0.5"); // its connection closed: the address may open one again
    }

    @Test
    void connectionsBeyondTheGlobalCapGet503AndAreAcceptedAgainOnceOthersClose() throws Exception {
        LoopbackVisitors.answerEverything(upstream);
        long before = metrics.refusedAtGlobalCap();
        int doorDescriptors = LoopbackVisitors.descriptorsOnPort(port); // the listening socket
        int descriptors = LoopbackVisitors.descriptors();
        hold("127.0.0.7", 3);
        hold("127.0.0.8", 3);
        hold("127.0.0.9", 2);
        for (int i = 0; i < 12; i++) { // each address under its own cap
            assertThat(refused("127.0.0." + (10 + i % 4)).body())
                    .contains("Ferry has as many connections open as it can take just now.");
        }
        // (a refused connection is closed once its visitor has read the answer and gone)
        await().atMost(Duration.ofSeconds(5))
                .until(() -> LoopbackVisitors.descriptorsOnPort(port) - doorDescriptors <= 8);
        assertThat(LoopbackVisitors.descriptorsOnPort(port) - doorDescriptors)
                .as("descriptors for visitor connections")
                .isEqualTo(8);
        assertThat(LoopbackVisitors.descriptors() - descriptors)
                .as("all descriptors: 8 held client sockets, 8 accepted, a few of the JVM's own")
                .isLessThanOrEqualTo(16 + 4);
        assertThat(metrics.refusedAtGlobalCap() - before).isEqualTo(12);
        assertThat(metrics.openConnections()).isEqualTo(8);
        for (int i = 0; i < 3; i++) {
            held.remove(0).close();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.openConnections() == 5);
        served("127.0.0.14");
        served("127.0.0.7");
    }

    @Test
    void webSocketTunnelsCountAsConnections() throws Exception {
        List<java.util.concurrent.CompletableFuture<Void>> servers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            servers.add(upstream.serveOnce(s -> {
                ProxyStreamingTest.readHead(new java.io.BufferedInputStream(s.getInputStream()));
                s.getOutputStream().write(ScriptedUpstream.SWITCHING);
                s.getOutputStream().flush();
                s.getInputStream().read(); // until the visitor goes
            }));
            Socket tunnel = LoopbackVisitors.from("127.0.0.15", port);
            held.add(tunnel);
            ProxyStreamingTest.send(
                    tunnel, "GET /user/" + SESSION + "/ws HTTP/1.1\r\nHost: ferry.test\r\n" + ScriptedUpstream.UPGRADE);
            assertThat(ProxyStreamingTest.readHead(LoopbackVisitors.in(tunnel))).startsWith("HTTP/1.1 101");
        }
        refused("127.0.0.15");
        for (Socket s : held) {
            s.close();
        }
        held.clear();
        for (var server : servers) {
            server.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void aTrustedProxyIsHeldToTheGlobalCapOnly() throws Exception {
        LoopbackVisitors.answerEverything(upstream);
        hold("127.0.0.20", 5); // more than one address may open: it carries many visitors
        served("127.0.0.20");
        hold("127.0.0.21", 3);
        refused("127.0.0.20"); // 8 open: the global cap holds for it too
    }

    @Test
    void prometheusShowsOpenAndRefusedConnections() throws Exception {
        hold("127.0.0.22", 3);
        refused("127.0.0.22");
        try (Socket s = LoopbackVisitors.from("127.0.0.23", port)) {
            String metricsText =
                    LoopbackVisitors.get(s, LoopbackVisitors.in(s), "/metrics").body();
            assertThat(metricsText)
                    .containsPattern("(?m)^ferry_proxy_connections 4\\.0$") // the three held and this one
                    .containsPattern("(?m)^ferry_proxy_connections_refused_total\\{reason=\"address\"} [1-9]")
                    .containsPattern("(?m)^ferry_proxy_connections_refused_total\\{reason=\"global\"} ")
                    .containsPattern("(?m)^ferry_proxy_request_head_timeouts_total ");
        }
    }

    @Test
    void aRefusedVisitorThatStaysIsLetGoSoon() throws Exception {
        int doorDescriptors = LoopbackVisitors.descriptorsOnPort(port);
        hold("127.0.0.24", 3);
        try (Socket stays = LoopbackVisitors.from("127.0.0.24", port)) {
            stays.getOutputStream().write("GET / HTTP/1.1\r\nHost: ferry.test\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = LoopbackVisitors.in(stays);
            assertThat(LoopbackVisitors.read(in).status()).isEqualTo(503);
            assertThat(in.read()).as("the answer is all the door sends").isEqualTo(-1);
            long start = System.nanoTime();
            // the door reads what comes (dropping it) for a moment, then closes its side although the visitor stays
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> LoopbackVisitors.descriptorsOnPort(port) - doorDescriptors == 3);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(4_000);
        }
    }
}
