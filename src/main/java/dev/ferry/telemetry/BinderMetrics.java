package dev.ferry.telemetry;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import dev.ferry.build.BuildService;
import dev.ferry.cull.Culler;
import dev.ferry.launch.LaunchService;
import dev.ferry.proxy.ProxyMetrics;
import dev.ferry.session.SessionService;

/**
 * BinderHub's Prometheus metrics, with its names, labels and buckets, so that mybinder.org's dashboards work against
 * Ferry: {@code binderhub_build_time_seconds{status}}, {@code binderhub_launch_time_seconds{status,retries}},
 * {@code binderhub_build_count_total{status,provider,repo}}, {@code binderhub_launch_count_total{status,provider,repo}},
 * {@code binderhub_inprogress_builds}, {@code binderhub_inprogress_launches}; plus Ferry's own ({@code ferry_*}).
 */
public final class BinderMetrics {

    /** BinderHub labels providers by class name, not by id. */
    static final Map<String, String> PROVIDER_NAMES =
            Map.of("gh", "GitHub", "gl", "GitLab", "gist", "Gist", "git", "Git");

    private static final Duration[] BUILD_BUCKETS = seconds(60, 120, 300, 600, 1800, 3600, 7200);
    private static final Duration[] LAUNCH_BUCKETS = seconds(2, 5, 10, 20, 30, 60, 120, 300, 600);

    /** The {@code repo} label of repositories beyond {@code ferry.metrics.max-repo-labels}. */
    static final String OTHER_REPOS = "other";

    private final MeterRegistry registry;
    private final int maxRepoLabels;
    private final Set<String> repoLabels = new HashSet<>();

    public BinderMetrics(
            MeterRegistry registry,
            BuildService builds,
            LaunchService launches,
            SessionService sessions,
            ProxyMetrics proxy,
            Culler culler,
            int maxRepoLabels) {
        this.registry = registry;
        this.maxRepoLabels = maxRepoLabels;
        Gauge.builder("ferry.queue.waiting", launches, LaunchService::waiting)
                .description("Launches waiting in line for a seat")
                .register(registry);
        culler.onCull(kind -> Counter.builder("ferry.culls")
                .description("Sessions culled, by reason")
                .tag("reason", kind)
                .register(registry)
                .increment());
        Gauge.builder("binderhub.inprogress.builds", builds, BuildService::inProgress)
                .description("Builds currently in progress")
                .register(registry);
        Gauge.builder("binderhub.inprogress.launches", launches, LaunchService::inProgress)
                .description("Launches currently in progress")
                .register(registry);
        Gauge.builder("ferry.sessions", sessions, s -> s.sessions().size())
                .description("Running sessions")
                .register(registry);
        Gauge.builder("ferry.proxy.websockets", proxy, ProxyMetrics::openWebSockets)
                .description("WebSocket tunnels open through the proxy")
                .register(registry);
        Gauge.builder("ferry.proxy.buffer.memory", proxy, ProxyMetrics::bufferMemory)
                .description("Memory the front door's buffer pool holds for bodies and messages in flight")
                .baseUnit("bytes")
                .register(registry);
        FunctionCounter.builder("ferry.proxy.upstream.errors", proxy, ProxyMetrics::upstreamErrors)
                .description("Requests whose notebook server did not answer properly")
                .register(registry);
        FunctionCounter.builder("ferry.proxy.bytes", proxy, ProxyMetrics::bytes)
                .description("Bytes the proxy carried, both directions")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder("ferry.proxy.connections", proxy, ProxyMetrics::openConnections)
                .description("Visitor connections the front door holds open, WebSocket tunnels included")
                .register(registry);
        FunctionCounter.builder("ferry.proxy.connections.refused", proxy, ProxyMetrics::refusedAtGlobalCap)
                .description("Connections answered 503 at a connection cap")
                .tag("reason", "global")
                .register(registry);
        FunctionCounter.builder("ferry.proxy.connections.refused", proxy, ProxyMetrics::refusedAtAddressCap)
                .description("Connections answered 503 at a connection cap")
                .tag("reason", "address")
                .register(registry);
        FunctionCounter.builder("ferry.proxy.request.head.timeouts", proxy, ProxyMetrics::headTimeouts)
                .description("Connections ended because a request head did not arrive within the request-head timeout")
                .register(registry);

        builds.onFinished(outcome -> {
            String status = outcome.succeeded() ? "success" : "failure";
            Timer.builder("binderhub.build.time")
                    .description("Histogram of build times")
                    .tag("status", status)
                    .serviceLevelObjectives(BUILD_BUCKETS)
                    .register(registry)
                    .record(outcome.duration());
            Counter.builder("binderhub.build.count")
                    .description("Counter of builds by repo")
                    .tags(
                            "status",
                            status,
                            "provider",
                            PROVIDER_NAMES.getOrDefault(outcome.repo().spec().provider(), "Git"),
                            "repo",
                            repoLabel(outcome.repo().spec().displayUrl()))
                    .register(registry)
                    .increment();
        });
        launches.onFinished(outcome -> {
            if (outcome.buildOnly() || outcome.repo() == null) {
                return;
            }
            String status = outcome.succeeded() ? "success" : "failure";
            if (outcome.launchTime() != null) {
                Timer.builder("binderhub.launch.time")
                        .description("Histogram of launch times")
                        .tags("status", status, "retries", outcome.succeeded() ? "0" : "-1")
                        .serviceLevelObjectives(LAUNCH_BUCKETS)
                        .register(registry)
                        .record(outcome.launchTime());
            }
            Counter.builder("binderhub.launch.count")
                    .description("Counter of launches by repo")
                    .tags(
                            "status",
                            status,
                            "provider",
                            PROVIDER_NAMES.getOrDefault(outcome.repo().spec().provider(), "Git"),
                            "repo",
                            repoLabel(outcome.repo().spec().displayUrl()))
                    .register(registry)
                    .increment();
        });
    }

    /**
     * The repository as a label value: itself while fewer than {@code maxRepoLabels} repositories have been labelled,
     * else {@link #OTHER_REPOS} (each distinct label value is a time series kept for ever, here and in Prometheus).
     */
    synchronized String repoLabel(String repo) {
        if (repoLabels.contains(repo) || (repoLabels.size() < maxRepoLabels && repoLabels.add(repo))) {
            return repo;
        }
        return OTHER_REPOS;
    }

    MeterRegistry registry() {
        return registry;
    }

    private static Duration[] seconds(long... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofSeconds(values[i]);
        }
        return out;
    }
}
