package dev.ferry.telemetry;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Ferry's metrics ({@code ferry.metrics.*}).
 *
 * @param maxRepoLabels distinct {@code repo} label values {@code binderhub_build_count_total} and
 *                      {@code binderhub_launch_count_total} keep; repositories seen after that many are counted under
 *                      {@code repo="other"}, so that a script launching endless distinct URLs cannot grow the metrics
 *                      (and Prometheus) without bound. Kept until Ferry restarts.
 */
@ConfigurationProperties("ferry.metrics")
public record MetricsProperties(@DefaultValue("500") int maxRepoLabels) {}
