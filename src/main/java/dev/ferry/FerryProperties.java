package dev.ferry;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Installation-wide settings ({@code ferry.*}).
 *
 * @param platform  {@code auto} (the default: kubernetes when a cluster is configured, local otherwise),
 *                  {@code local} or {@code kubernetes}
 * @param publicUrl the address visitors use to reach Ferry (e.g. {@code https://ferry.example.org}); when empty,
 *                  Ferry uses the scheme and host of each request
 */
@ConfigurationProperties("ferry")
public record FerryProperties(
        @DefaultValue("auto") String platform,
        @DefaultValue("") String publicUrl) {
}
