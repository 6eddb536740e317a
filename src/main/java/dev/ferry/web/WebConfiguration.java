package dev.ferry.web;

import jakarta.servlet.DispatcherType;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.FerryProperties;
import dev.ferry.Threads;
import dev.ferry.access.LaunchGuard;
import dev.ferry.access.StreamLimits;
import dev.ferry.build.BuildProperties;
import dev.ferry.launch.LaunchService;
import dev.ferry.proxy.SessionHosts;
import dev.ferry.repo.RepoProviders;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({FerryProperties.class, WebProperties.class})
class WebConfiguration {

    /**
     * The event streams of the build API and of workshops: each on a thread of its own, never timed out by the
     * container (which would end a stream after 30 seconds, and a waiting attendee's page would join again); bounded by
     * {@link StreamLimits}, and the lines by their maximum wait.
     */
    @Bean
    EventStreamWriter eventStreamWriter(JsonMapper json) {
        return new EventStreamWriter(json, Threads.perTask("ferry-events"));
    }

    /** Per-session origins: portal pages refused on session hosts, sessions refused on the portal's host. */
    @Bean
    FilterRegistrationBean<SessionHostFilter> sessionHostFilter(SessionHosts hosts, FerryProperties ferry) {
        var registration = new FilterRegistrationBean<>(new SessionHostFilter(hosts, ferry));
        registration.addUrlPatterns("/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        registration.setAsyncSupported(true);
        registration.setEnabled(hosts.enabled()); // off: not even on the path of a request
        return registration;
    }

    /** CSP, nosniff and Referrer-Policy on the portal's own responses (never on proxied ones). */
    @Bean
    FilterRegistrationBean<PortalHeadersFilter> portalHeadersFilter() {
        var registration = new FilterRegistrationBean<>(new PortalHeadersFilter());
        registration.addUrlPatterns("/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
        registration.setAsyncSupported(true);
        registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ERROR);
        return registration;
    }

    @Bean
    ServletRegistrationBean<BuildEventServlet> buildEventServlet(
            LaunchService launches,
            RepoProviders providers,
            FerryProperties properties,
            EventStreamWriter writer,
            BuildProperties build,
            LaunchGuard guard,
            StreamLimits streamLimits) {
        BuildEventServlet servlet = new BuildEventServlet(
                launches, providers, properties, writer, build.allowBuildOnly(), guard, streamLimits);
        ServletRegistrationBean<BuildEventServlet> registration =
                new ServletRegistrationBean<>(servlet, BuildEventServlet.PREFIX + "*");
        registration.setName("ferryBuildEvents");
        registration.setAsyncSupported(true);
        return registration;
    }
}
