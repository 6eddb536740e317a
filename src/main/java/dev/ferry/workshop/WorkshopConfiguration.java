package dev.ferry.workshop;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ferry.FerryProperties;
import dev.ferry.build.BuildService;
import dev.ferry.capacity.Capacity;
import dev.ferry.capacity.QuotaProperties;
import dev.ferry.repo.RefResolver;
import dev.ferry.repo.RepoProviders;
import dev.ferry.session.SessionService;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(WorkshopProperties.class)
class WorkshopConfiguration {

    @Bean
    WorkshopService workshopService(
            RepoProviders providers,
            RefResolver resolver,
            BuildService builds,
            SessionService sessions,
            Capacity capacity,
            ObjectProvider<WorkshopStore> store,
            WorkshopProperties properties,
            FerryProperties ferry,
            QuotaProperties quota) {
        // the platform's store when it shares workshops between portal replicas (Kubernetes), else this portal's memory
        return new WorkshopService(
                providers,
                resolver,
                builds,
                sessions,
                capacity,
                store.getIfAvailable(() -> WorkshopStore.IN_MEMORY),
                properties,
                ferry.cors().allowedOrigins(),
                quota.queue().limits());
    }
}
