package dev.ferry;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Installation-wide settings ({@code ferry.*}).
 *
 * @param platform  {@code auto} (the default: kubernetes when a cluster is configured, local otherwise),
 *                  {@code local} or {@code kubernetes}
 * @param publicUrl the address visitors use to reach Ferry (e.g. {@code https://ferry.example.org}); when empty,
 *                  Ferry uses the scheme and host of each request. Badges and share links point here.
 * @param cors      cross-origin use of the build API and of launched servers (Thebe and other embedded clients)
 */
@ConfigurationProperties("ferry")
public record FerryProperties(
        @DefaultValue("auto") String platform,
        @DefaultValue("") String publicUrl,
        @DefaultValue Cors cors) {

    /**
     * @param allowedOrigins page origins allowed to use the build API and the launched servers from the browser
     *                       ({@code https://docs.example.org}, or {@code *} for any); empty: same origin only
     */
    public record Cors(@DefaultValue({}) List<String> allowedOrigins) {

        public boolean allows(String origin) {
            return origin != null && (allowedOrigins.contains("*") || allowedOrigins.contains(origin));
        }
    }
}
