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
 */
@ConfigurationProperties("ferry.proxy")
public record ProxyProperties(
        @DefaultValue("5s") Duration connectTimeout,
        @DefaultValue("10m") Duration readTimeout,
        @DefaultValue({}) Map<String, String> routes) {
}
