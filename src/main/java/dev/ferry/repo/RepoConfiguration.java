package dev.ferry.repo;

import java.util.List;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({RepoProperties.class, ArchiveProperties.class})
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
        return new RemoteGit(
                guard,
                properties.gitTimeout(),
                properties.maxFetchSize().toBytes(),
                properties.maxFetchTime(),
                properties.maxFetchObjects());
    }

    @Bean
    RepoCheckout repoCheckout(RepoProperties properties) {
        return new RepoCheckout(properties.maxCheckoutSize().toBytes(), properties.maxCheckoutFiles());
    }

    @Bean
    ArchiveFetcher archiveFetcher(UrlGuard guard, RepoProperties properties) {
        return new ArchiveFetcher(
                guard, properties.gitTimeout(), properties.maxFetchSize().toBytes(), properties.maxFetchTime());
    }

    @Bean
    RecordDownloader recordDownloader(ArchiveFetcher fetcher, RepoProperties properties) {
        return new RecordDownloader(fetcher, properties.maxCheckoutSize().toBytes(), properties.maxCheckoutFiles());
    }

    @Bean
    RepoProviders repoProviders(RepoProperties properties, ArchiveProperties archives) {
        return new RepoProviders(
                List.of(
                        new GitHubRepoProvider(properties.githubHost()),
                        new GitLabRepoProvider(properties.gitlabHost()),
                        new GitRepoProvider(),
                        new GistRepoProvider(properties.gistHost()),
                        new ZenodoRepoProvider(archives.doiResolver(), archives.zenodoHosts()),
                        new FigshareRepoProvider(
                                archives.doiResolver(), archives.figshareHosts(), archives.figshareApi()),
                        new DataverseRepoProvider(archives.doiResolver(), archives.dataverseInstallations()),
                        new HydroshareRepoProvider(archives.hydroshareHosts()),
                        new CkanRepoProvider()),
                properties.bannedSpecs(),
                properties.allowedSpecs(),
                properties.specConfig());
    }

    @Bean
    RefResolver refResolver(
            RemoteGit git, ArchiveFetcher archives, RepoProviders providers, RepoProperties properties) {
        return new RefResolver(git, archives, providers, properties.refCacheTtl());
    }
}
