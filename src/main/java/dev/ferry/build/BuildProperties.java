package dev.ferry.build;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Builds ({@code ferry.build.*}).
 *
 * @param timeout       a build still running after this long is stopped and fails (mybinder stops builds after 1 h)
 * @param maxConcurrent builds that run at once; further builds wait in line, in order
 * @param allowBuildOnly accept {@code build_only=true} on the build API (build without launching; BinderHub's
 *                       API-only mode)
 */
@ConfigurationProperties("ferry.build")
public record BuildProperties(
        @DefaultValue("1h") Duration timeout,
        @DefaultValue("2") int maxConcurrent,
        @DefaultValue("false") boolean allowBuildOnly) {
}
