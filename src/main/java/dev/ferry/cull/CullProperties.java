package dev.ferry.cull;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Reaping sessions ({@code ferry.cull.*}).
 *
 * @param idleTimeout a session whose proxy carried no bytes for this long is stopped (mybinder: 10 minutes)
 * @param maxAge      a session is stopped at this age however active it is (mybinder: 6 hours); 0 disables
 * @param interval    how often sessions are checked; a session is culled within {@code idle-timeout + interval}
 */
@ConfigurationProperties("ferry.cull")
public record CullProperties(
        @DefaultValue("10m") Duration idleTimeout,
        @DefaultValue("6h") Duration maxAge,
        @DefaultValue("30s") Duration interval) {}
