package dev.ferry.platform.local;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ferry.buildpack.Detector;
import dev.ferry.launch.LaunchProperties;
import dev.ferry.platform.OnPlatform;
import dev.ferry.platform.Platforms;
import dev.ferry.repo.RecordDownloader;
import dev.ferry.repo.RemoteGit;
import dev.ferry.repo.RepoCheckout;

/**
 * The embedded local platform: virtual environments as builds, Jupyter processes on 127.0.0.1 as sessions, each in a
 * bubblewrap sandbox.
 */
@Configuration(proxyBeanMethods = false)
@OnPlatform(Platforms.LOCAL)
@EnableConfigurationProperties(LocalProperties.class)
class LocalPlatformConfiguration {

    @Bean
    LocalLayout localLayout(LocalProperties properties) {
        LocalLayout layout = new LocalLayout(properties);
        new LocalJanitor(layout).cleanUp();
        return layout;
    }

    /** Checked once at start: where bubblewrap does not work, the local platform refuses to start (unless none). */
    @Bean
    Sandbox sandbox(LocalProperties properties, LocalLayout layout) {
        return Sandbox.start(properties, layout);
    }

    @Bean
    PythonFinder pythonFinder(LocalProperties properties) {
        return new PythonFinder(properties.python());
    }

    @Bean
    LocalEnvBuilder localEnvBuilder(
            LocalLayout layout,
            RemoteGit git,
            RepoCheckout checkout,
            RecordDownloader records,
            PythonFinder python,
            LocalProperties properties,
            Detector detector,
            Sandbox sandbox) {
        return new LocalEnvBuilder(
                layout, git, checkout, records, python, properties.systemSitePackages(), detector, sandbox);
    }

    @Bean
    LocalHealth localHealth(LocalLayout layout, PythonFinder python, Sandbox sandbox) {
        return new LocalHealth(layout, python, sandbox);
    }

    @Bean
    LocalSessionRuntime localSessionRuntime(
            LocalLayout layout,
            LocalEnvBuilder builder,
            LaunchProperties properties,
            RepoCheckout checkout,
            Sandbox sandbox,
            LocalProperties local) {
        return new LocalSessionRuntime(
                layout,
                builder,
                properties,
                checkout,
                sandbox,
                local.maxServerLog().toBytes());
    }
}
