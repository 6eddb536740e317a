package dev.ferry.telemetry;

import java.nio.file.Path;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.build.BuildService;
import dev.ferry.cull.Culler;
import dev.ferry.launch.LaunchService;
import dev.ferry.proxy.ProxyMetrics;
import dev.ferry.session.SessionService;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({EventsProperties.class, MetricsProperties.class})
class TelemetryConfiguration {

    @Bean
    BinderMetrics binderMetrics(
            MeterRegistry registry,
            BuildService builds,
            LaunchService launches,
            SessionService sessions,
            ProxyMetrics proxy,
            Culler culler,
            MetricsProperties properties) {
        return new BinderMetrics(registry, builds, launches, sessions, proxy, culler, properties.maxRepoLabels());
    }

    @Bean
    LaunchEventLog launchEventLog(LaunchService launches, JsonMapper json, EventsProperties properties) {
        String file = properties.launchFile();
        return new LaunchEventLog(launches, json, file.isBlank() ? null : Path.of(file));
    }
}
