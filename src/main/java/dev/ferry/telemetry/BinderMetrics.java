package dev.ferry.telemetry;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import dev.ferry.build.BuildService;
import dev.ferry.cull.Culler;
import dev.ferry.launch.LaunchService;
import dev.ferry.proxy.ProxyMetrics;
import dev.ferry.repo.ResolvedRepo;
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
        gauge("ferry.queue.waiting", launches, LaunchService::waiting, "Launches waiting in line for a seat");
        culler.onCull(kind -> Counter.builder("ferry.culls")
                .description("Sessions culled, by reason")
                .tag("reason", kind)
                .register(registry)
                .increment());
        gauge("binderhub.inprogress.builds", builds, BuildService::inProgress, "Builds currently in progress");
        gauge("binderhub.inprogress.launches", launches, LaunchService::inProgress, "Launches currently in progress");
        gauge("ferry.sessions", sessions, s -> s.sessions().size(), "Running sessions");
        gauge(
                "ferry.proxy.websockets",
                proxy,
                ProxyMetrics::openWebSockets,
                "WebSocket tunnels open through the proxy");
        Gauge.builder("ferry.proxy.buffer.memory", proxy, ProxyMetrics::bufferMemory)
                .description("Memory the front door's buffer pool holds for bodies and messages in flight")
                .baseUnit("bytes")
                .register(registry);
        counter(
                FunctionCounter.builder("ferry.proxy.upstream.errors", proxy, ProxyMetrics::upstreamErrors),
                "Requests whose notebook server did not answer properly");
        counter(
                FunctionCounter.builder("ferry.proxy.bytes", proxy, ProxyMetrics::bytes)
                        .baseUnit("bytes"),
                "Bytes the proxy carried, both directions");
        gauge(
                "ferry.proxy.connections",
                proxy,
                ProxyMetrics::openConnections,
                "Visitor connections the front door holds open, WebSocket tunnels included");
        refusedAt("global", proxy, ProxyMetrics::refusedAtGlobalCap);
        refusedAt("address", proxy, ProxyMetrics::refusedAtAddressCap);
        counter(
                FunctionCounter.builder("ferry.proxy.request.head.timeouts", proxy, ProxyMetrics::headTimeouts),
                "Connections ended because a request head did not arrive within the request-head timeout");

        builds.onFinished(outcome -> {
            String status = outcome.succeeded() ? "success" : "failure";
            Timer.builder("binderhub.build.time")
                    .description("Histogram of build times")
                    .tag("status", status)
                    .serviceLevelObjectives(BUILD_BUCKETS)
                    .register(registry)
                    .record(outcome.duration());
            countByRepo("binderhub.build.count", "Counter of builds by repo", status, outcome.repo());
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
            countByRepo("binderhub.launch.count", "Counter of launches by repo", status, outcome.repo());
        });
    }

    private <T> void gauge(String name, T source, ToDoubleFunction<T> value, String description) {
        Gauge.builder(name, source, value).description(description).register(registry);
    }

    private void counter(FunctionCounter.Builder<?> counter, String description) {
        counter.description(description).register(registry);
    }

    /** {@code ferry.proxy.connections.refused}, one series for each connection cap. */
    private void refusedAt(String cap, ProxyMetrics proxy, ToDoubleFunction<ProxyMetrics> count) {
        counter(
                FunctionCounter.builder("ferry.proxy.connections.refused", proxy, count)
                        .tag("reason", cap),
                "Connections answered 503 at a connection cap");
    }

    /** One more build or launch of {@code repo} in BinderHub's {@code status, provider, repo} labels. */
    private void countByRepo(String name, String description, String status, ResolvedRepo repo) {
        Counter.builder(name)
                .description(description)
                .tags(
                        "status",
                        status,
                        "provider",
                        PROVIDER_NAMES.getOrDefault(repo.spec().provider(), "Git"),
                        "repo",
                        repoLabel(repo.spec().displayUrl()))
                .register(registry)
                .increment();
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
