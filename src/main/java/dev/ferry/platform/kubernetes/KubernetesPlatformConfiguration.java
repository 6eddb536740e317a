package dev.ferry.platform.kubernetes;

import java.time.Duration;

import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.application.ReadinessStateHealthIndicator;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.Ordered;

import dev.ferry.FerryApplication;
import dev.ferry.build.BuildProperties;
import dev.ferry.buildpack.BuildpackProperties;
import dev.ferry.capacity.Capacity;
import dev.ferry.cull.CullProperties;
import dev.ferry.platform.OnPlatform;
import dev.ferry.platform.Platforms;
import dev.ferry.proxy.RouteTable;
import dev.ferry.repo.RepoProperties;
import dev.ferry.session.SessionService;
import dev.ferry.workshop.WorkshopStore;

/**
 * The kubernetes platform: builds as Jobs pushing to a registry, sessions as Pods, all state in the cluster (informers
 * on Ferry's labelled Pods and Jobs), a Lease electing the replica that culls. Starts while the API server is down and
 * catches up when it answers; {@code /health} says which.
 */
@Configuration(proxyBeanMethods = false)
@OnPlatform(Platforms.KUBERNETES)
@EnableConfigurationProperties({KubernetesProperties.class, RegistryProperties.class})
class KubernetesPlatformConfiguration {

    @Bean
    KubeApi kubeApi(
            KubernetesProperties properties,
            RegistryProperties registry,
            ObjectProvider<KubernetesHttpCustomizer> customizers) {
        registry.normalizedPrefix(); // no registry, no builds: say so at startup
        return KubeApi.create(properties, customizers.orderedStream().toList());
    }

    @Bean(destroyMethod = "close")
    KubeState kubeState(KubeApi api, KubernetesProperties properties) {
        KubeState state = new KubeState(api, properties.apiRetryMax());
        state.start();
        return state;
    }

    @Bean
    SessionPods sessionPods(KubernetesProperties properties) {
        return new SessionPods(properties.session());
    }

    @Bean
    BuildJobs buildJobs(
            KubernetesProperties properties,
            RegistryProperties registry,
            RepoProperties repo,
            BuildpackProperties buildpack,
            ObjectProvider<org.springframework.boot.info.BuildProperties> buildInfo) {
        var info = buildInfo.getIfAvailable();
        String version = info != null
                ? info.getVersion()
                : FerryApplication.class.getPackage().getImplementationVersion();
        BuildJobs jobs = new BuildJobs(properties.build(), registry, repo, version, buildpack);
        if (version == null && properties.build().prepareImage().isBlank()) {
            LoggerFactory.getLogger(BuildJobs.class)
                    .warn(
                            "this portal's version is unknown (no build-info): "
                                    + "builds use {}; set ferry.kubernetes.build.prepare-image to the image this portal runs",
                            jobs.prepareImage());
        }
        return jobs;
    }

    @Bean
    RegistryClient registryClient(RegistryProperties registry) {
        return new RegistryClient(registry);
    }

    @Bean
    KubernetesBuilder kubernetesBuilder(
            KubeApi api,
            KubeState state,
            BuildJobs jobs,
            RegistryProperties registry,
            RegistryClient registryClient,
            KubernetesProperties properties) {
        return new KubernetesBuilder(
                api,
                state,
                jobs,
                registry,
                registryClient::exists,
                properties.build().startGrace());
    }

    /** Published before any bean stops: builds in progress are let go rather than cancelled (their Jobs run on). */
    @Bean
    BuildsOutlivePortal buildsOutlivePortal(KubernetesBuilder builder) {
        return new BuildsOutlivePortal(builder);
    }

    /** Runs before the launch service's shutdown drain (which cancels builds): the Jobs are let go, not deleted. */
    record BuildsOutlivePortal(KubernetesBuilder builder) implements ApplicationListener<ContextClosedEvent>, Ordered {
        @Override
        public void onApplicationEvent(ContextClosedEvent event) {
            builder.portalStopping();
        }

        @Override
        public int getOrder() {
            return Ordered.HIGHEST_PRECEDENCE;
        }
    }

    @Bean
    KubernetesSessionRuntime kubernetesSessionRuntime(
            KubeApi api, KubeState state, SessionPods pods, KubernetesProperties properties) {
        return new KubernetesSessionRuntime(
                api, state, pods, properties.session().launchTimeout());
    }

    @Bean(destroyMethod = "close")
    LeaseLeadership leaseLeadership(KubeApi api, KubernetesProperties properties) {
        LeaseLeadership leadership = new LeaseLeadership(api, properties.leaseName(), properties.leaseDuration());
        leadership.start();
        return leadership;
    }

    @Bean(destroyMethod = "close")
    KubeSessions kubeSessions(
            KubeApi api,
            KubeState state,
            KubernetesSessionRuntime launcher,
            SessionService sessions,
            Capacity capacity,
            RouteTable routes,
            KubernetesProperties properties) {
        capacity.countedWhen(state::synced); // sessions are counted from the Pod informer: not before its first listing
        KubeSessions kubeSessions =
                new KubeSessions(api, state, launcher, sessions, capacity, routes, properties.activityFlush());
        kubeSessions.start();
        return kubeSessions;
    }

    /** Workshops in ConfigMaps, so that every replica serves them; the culler's leader tends them. */
    @Bean
    WorkshopStore kubeWorkshops(KubeApi api, KubeState state, LeaseLeadership leadership) {
        return new KubeWorkshops(api, state, leadership);
    }

    @Bean(destroyMethod = "close")
    KubeJanitor kubeJanitor(
            KubeApi api,
            KubeState state,
            LeaseLeadership leadership,
            KubernetesBuilder builder,
            KubernetesSessionRuntime launcher,
            KubernetesProperties properties,
            BuildProperties build,
            CullProperties cull) {
        KubeJanitor janitor = new KubeJanitor(
                api,
                state,
                leadership,
                builder,
                launcher,
                properties.build().ttlAfterFinished(),
                build.timeout(),
                properties.session().launchTimeout());
        Duration every =
                cull.interval().compareTo(Duration.ofSeconds(30)) < 0 ? cull.interval() : Duration.ofSeconds(30);
        janitor.start(every.isZero() ? Duration.ofSeconds(30) : every);
        return janitor;
    }

    /**
     * Replaces Spring's readiness indicator (same name, so it stays the {@code readiness} group's member): a replica is
     * not ready — the Deployment's probe keeps it out of the Service during a rollout — until the informers have their
     * first full listing, so that it neither misses running sessions nor counts too few of them.
     */
    @Bean("readinessStateHealthIndicator")
    SyncedReadiness readinessStateHealthIndicator(ApplicationAvailability availability, KubeState state) {
        return new SyncedReadiness(availability, state);
    }

    static final class SyncedReadiness extends ReadinessStateHealthIndicator {
        private final KubeState state;

        SyncedReadiness(ApplicationAvailability availability, KubeState state) {
            super(availability);
            this.state = state;
        }

        @Override
        protected AvailabilityState getState(ApplicationAvailability availability) {
            return state.synced() ? super.getState(availability) : ReadinessState.REFUSING_TRAFFIC;
        }
    }

    @Bean
    KubernetesHealth kubernetesHealth(KubeApi api, KubeState state, LeaseLeadership leadership) {
        return new KubernetesHealth(api, state, leadership);
    }
}
