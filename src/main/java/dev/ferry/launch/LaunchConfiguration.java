package dev.ferry.launch;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ferry.FerryProperties;
import dev.ferry.Threads;
import dev.ferry.build.BuildService;
import dev.ferry.capacity.Capacity;
import dev.ferry.capacity.QuotaProperties;
import dev.ferry.proxy.RouteTable;
import dev.ferry.proxy.SessionHosts;
import dev.ferry.repo.RefResolver;
import dev.ferry.repo.RepoProviders;
import dev.ferry.session.SessionRuntime;
import dev.ferry.session.SessionService;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({LaunchProperties.class, QuotaProperties.class})
class LaunchConfiguration {

    @Bean
    SessionService sessionService(SessionRuntime launcher, RouteTable routes) {
        return new SessionService(launcher, routes);
    }

    @Bean
    Capacity capacity(QuotaProperties quota) {
        return new Capacity(quota);
    }

    @Bean
    ShutdownDrain shutdownDrain(LaunchService launches, BuildService builds, SessionService sessions) {
        return new ShutdownDrain(launches, builds, sessions);
    }

    @Bean
    LaunchService launchService(
            RefResolver resolver,
            BuildService builds,
            SessionService sessions,
            FerryProperties ferry,
            Capacity capacity,
            QuotaProperties quota,
            RepoProviders providers,
            SessionHosts sessionHosts) {
        return new LaunchService(
                resolver,
                builds,
                sessions,
                Threads.perTask("ferry-launch"),
                ferry.cors().allowedOrigins(),
                capacity,
                spec -> providers.settingsFor(spec).quota().orElse(quota.perRepo()),
                sessionHosts);
    }
}
