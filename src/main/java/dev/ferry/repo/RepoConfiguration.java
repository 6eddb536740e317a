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
        return new RemoteGit(guard, properties.gitTimeout(), properties.maxFetchSize().toBytes(), properties.maxFetchTime(),
                properties.maxFetchObjects());
    }

    @Bean
    RepoCheckout repoCheckout(RepoProperties properties) {
        return new RepoCheckout(properties.maxCheckoutSize().toBytes(), properties.maxCheckoutFiles());
    }

    @Bean
    RepoProviders repoProviders(RepoProperties properties) {
        return new RepoProviders(List.of(new GitHubRepoProvider(properties.githubHost()),
                new GitLabRepoProvider(properties.gitlabHost()), new GitRepoProvider(),
                new GistRepoProvider(properties.gistHost())),
                properties.bannedSpecs(), properties.allowedSpecs(), properties.specConfig());
    }

    @Bean
    RefResolver refResolver(RemoteGit git, RepoProviders providers, RepoProperties properties) {
        return new RefResolver(git, providers, properties.refCacheTtl());
    }
}
