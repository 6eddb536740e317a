package dev.ferry.proxy;

import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The notebook proxy ({@code ferry.proxy.*}): the front door ({@link FrontDoor}) owns the HTTP port (and terminates
 * TLS when {@code server.ssl.*} is set), relays notebook traffic itself and the portal's pages to the servlet
 * container behind it.
 *
 * @param connectTimeout how long a connection to a notebook server may take
 * @param readTimeout    how long a proxied HTTP request may wait for the server's next bytes (WebSockets have none)
 * @param routes         static routes, off by default: {@code /user/<name>/**} to an arbitrary upstream URL
 *                       ({@code ferry.proxy.routes.bench=http://127.0.0.1:9000}), for benchmarks and operators who
 *                       put another service behind Ferry; never culled
 * @param sessionDomain  per-session origins, off by default: a wildcard DNS name ({@code sessions.example.org}) under
 *                       which each session is served at {@code <id>.<domain>}, its own browser origin; the portal's
 *                       pages are refused there and sessions are no longer served on the portal's host
 * @param requestHeadTimeout at the front door, how long a request's line and headers may take to arrive in full: from
 *                       the connection's start for its first request, from the first byte for each next one (an idle
 *                       kept-alive connection is the keep-alive timeout's). Past it: 408 and the connection's end
 *                       (0: no limit). Ends slow-header (slowloris) connections that are never idle
 * @param maxConnections at the front door, visitor connections open at once, WebSocket tunnels included; further ones
 *                       are answered 503 and closed. Lowered at start to what the process's open-file limit leaves
 *                       room for (three descriptors a connection, an eighth of the limit kept spare)
 * @param maxConnectionsPerAddress at the front door, visitor connections open at once from one TCP peer address
 *                       (IPv6: one /64); further ones are answered 503 and closed (0: no limit). Peers among
 *                       {@code ferry.trusted-proxies} are held to {@code maxConnections} only
 */
@ConfigurationProperties("ferry.proxy")
public record ProxyProperties(
        @DefaultValue("5s") Duration connectTimeout,
        @DefaultValue("10m") Duration readTimeout,
        @DefaultValue({}) Map<String, String> routes,
        @DefaultValue("") String sessionDomain,
        @DefaultValue("20s") Duration requestHeadTimeout,
        @DefaultValue("10000") int maxConnections,
        @DefaultValue("500") int maxConnectionsPerAddress) {

    public ProxyProperties {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("ferry.proxy.max-connections must be at least 1 (it is " + maxConnections
                    + "); it is lowered to what the open-file limit allows anyway.");
        }
    }
}
