package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.context.logging.LoggingApplicationListener;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

import dev.ferry.FerryApplication;
import dev.ferry.FerryProperties;
import dev.ferry.build.BuildProperties;
import dev.ferry.buildpack.BuildpackProperties;
import dev.ferry.repo.RepoProperties;

/**
 * The portal's settings for the operator commands ({@code manifests}, {@code check-cluster}): read the way the portal
 * reads them (application.yml, config files, environment, {@code --ferry.…} arguments, profiles), by a Spring context
 * that holds nothing but the settings — no web server, no platform, no logging setup.
 */
final class CommandSettings implements AutoCloseable {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({
        KubernetesProperties.class,
        RegistryProperties.class,
        RepoProperties.class,
        BuildProperties.class,
        FerryProperties.class,
        BuildpackProperties.class
    })
    static class Settings {}

    private final ConfigurableApplicationContext context;

    private CommandSettings(ConfigurableApplicationContext context) {
        this.context = context;
    }

    /**
     * @throws IllegalArgumentException with a sentence naming the setting, when one cannot be read
     */
    static CommandSettings load(String[] args) {
        SpringApplication app = new SpringApplication(Settings.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        app.setBannerMode(Banner.Mode.OFF);
        app.setLogStartupInfo(false);
        app.setRegisterShutdownHook(false);
        // Spring's logging setup would configure the JVM's logging for good (a test's portal after a command would log
        // at the command's levels): the process's logging is the caller's, see FerryApplication
        app.setListeners(app.getListeners().stream()
                .filter(l -> !(l instanceof LoggingApplicationListener))
                .toList());
        try {
            return new CommandSettings(app.run(args));
        } catch (RuntimeException e) {
            Throwable cause = e;
            StringBuilder why = new StringBuilder(String.valueOf(e.getMessage()));
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
                why.append(": ").append(cause.getMessage());
            }
            throw new IllegalArgumentException("Ferry could not read its settings (" + why + ").", e);
        }
    }

    <T> T get(Class<T> type) {
        return context.getBean(type);
    }

    /**
     * The build Jobs the portal would create with these settings, after refusing a registry without an image prefix
     * (no prefix, no image names: the sentence says which setting).
     */
    BuildJobs buildJobs() {
        RegistryProperties registry = get(RegistryProperties.class);
        registry.normalizedPrefix();
        return new BuildJobs(
                get(KubernetesProperties.class).build(),
                registry,
                get(RepoProperties.class),
                portalVersion(),
                get(BuildpackProperties.class));
    }

    /** This portal's version (the default prepare image's tag), from the jar's build-info; null when unknown. */
    static String portalVersion() {
        try (InputStream in = FerryApplication.class.getResourceAsStream("/META-INF/build-info.properties")) {
            if (in != null) {
                Properties info = new Properties();
                info.load(in);
                String version = info.getProperty("build.version");
                if (version != null && !version.isBlank()) {
                    return version;
                }
            }
        } catch (IOException e) {
            // fall back to the manifest
        }
        return FerryApplication.class.getPackage().getImplementationVersion();
    }

    @Override
    public void close() {
        context.close();
    }
}
