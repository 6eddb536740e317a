package dev.ferry.repo;

import java.util.List;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(RepoProperties.class)
class RepoConfiguration {

    @Bean
    HostResolver hostResolver() {
        return HostResolver.system();
    }

    @Bean
    UrlGuard urlGuard(RepoProperties properties, HostResolver resolver) {
        return new UrlGuard(properties.allowedSchemes(), properties.allowPrivateAddresses(), resolver);
    }

    @Bean
    RemoteGit remoteGit(UrlGuard guard, RepoProperties properties) {
        return new RemoteGit(guard, properties.gitTimeout());
    }

    @Bean
    RepoProviders repoProviders() {
        return new RepoProviders(List.of(new GitRepoProvider()));
    }

    @Bean
    RefResolver refResolver(RemoteGit git, RepoProviders providers) {
        return new RefResolver(git, providers);
    }
}
