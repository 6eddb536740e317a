package dev.ferry.proxy;

import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The notebook proxy ({@code ferry.proxy.*}).
 *
 * @param connectTimeout how long a connection to a notebook server may take
 * @param readTimeout    how long a proxied HTTP request may wait for the server's next bytes (WebSockets have none)
 * @param routes         static routes, off by default: {@code /user/<name>/**} to an arbitrary upstream URL
 *                       ({@code ferry.proxy.routes.bench=http://127.0.0.1:9000}), for benchmarks and operators who
 *                       put another service behind Ferry; never culled
 * @param sessionDomain  per-session origins, off by default: a wildcard DNS name ({@code sessions.example.org}) under
 *                       which each session is served at {@code <id>.<domain>}, its own browser origin; the portal's
 *                       pages are refused there and sessions are no longer served on the portal's host
 * @param frontDoor      on by default: an event-driven front door ({@link FrontDoor}) owns the HTTP port and relays
 *                       notebook traffic itself, the portal's pages to the servlet container behind it; off: Tomcat
 *                       owns the port and proxies too. Not used with per-session origins or when Ferry terminates TLS
 */
@ConfigurationProperties("ferry.proxy")
public record ProxyProperties(
        @DefaultValue("5s") Duration connectTimeout,
        @DefaultValue("10m") Duration readTimeout,
        @DefaultValue({}) Map<String, String> routes,
        @DefaultValue("") String sessionDomain,
        @DefaultValue("true") boolean frontDoor) {
}
