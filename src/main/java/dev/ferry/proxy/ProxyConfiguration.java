package dev.ferry.proxy;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.boot.tomcat.TomcatProtocolHandlerCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.http.server.observation.ServerRequestObservationContext;
import org.springframework.util.unit.DataSize;

import io.micrometer.observation.ObservationPredicate;

import dev.ferry.access.ClientAddresses;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(ProxyProperties.class)
class ProxyConfiguration {

    @Bean
    RouteTable routeTable(ProxyProperties properties) {
        RouteTable routes = new RouteTable();
        properties.routes().forEach((name, target) -> {
            URI uri = URI.create(target);
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null || name.contains("/")) {
                throw new IllegalArgumentException("ferry.proxy.routes." + name + " must be an http://host:port URL");
            }
            routes.add(new Route(name, uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort()));
        });
        return routes;
    }

    @Bean
    SessionHosts sessionHosts(ProxyProperties properties) {
        return new SessionHosts(properties.sessionDomain());
    }

    @Bean
    ProxyMetrics proxyMetrics() {
        return new ProxyMetrics();
    }

    /**
     * The front door, with the servlet container's own limits: the same header size, keep-alive timeout and requests
     * per connection as {@code server.*} configures for Tomcat.
     */
    @Bean(destroyMethod = "close")
    FrontDoor frontDoor(
            RouteTable routes,
            SessionHosts hosts,
            ProxyMetrics metrics,
            ProxyProperties properties,
            Environment environment) {
        Binder binder = Binder.get(environment);
        String contextPath = binder.bind("server.servlet.context-path", String.class)
                .orElse("")
                .replaceAll("/+$", "");
        int maxHeader = (int) binder.bind("server.max-http-request-header-size", DataSize.class)
                .orElse(DataSize.ofKilobytes(8))
                .toBytes();
        Duration keepAlive = binder.bind("server.tomcat.keep-alive-timeout", Duration.class)
                .orElseGet(() -> binder.bind("server.tomcat.connection-timeout", Duration.class)
                        .orElse(Duration.ofSeconds(60)));
        int maxRequests = binder.bind("server.tomcat.max-keep-alive-requests", Integer.class)
                .orElse(100);
        List<String> trusted = binder.bind("ferry.trusted-proxies", Bindable.listOf(String.class))
                .orElse(List.of());
        return new FrontDoor(
                routes,
                hosts,
                metrics,
                new FrontDoor.Settings(
                        contextPath,
                        properties.connectTimeout(),
                        properties.readTimeout(),
                        maxHeader,
                        keepAlive,
                        maxRequests,
                        properties.requestHeadTimeout(),
                        properties.maxConnections(),
                        properties.maxConnectionsPerAddress()),
                ClientAddresses.trusting(trusted));
    }

    /** Tomcat as Spring Boot configures it (the same customizers), behind the front door. */
    @Bean
    FrontDoorWebServerFactory tomcatServletWebServerFactory(
            ObjectProvider<TomcatConnectorCustomizer> connectorCustomizers,
            ObjectProvider<TomcatContextCustomizer> contextCustomizers,
            ObjectProvider<TomcatProtocolHandlerCustomizer<?>> protocolHandlerCustomizers,
            ObjectProvider<FrontDoor> frontDoor) {
        FrontDoorWebServerFactory factory = new FrontDoorWebServerFactory(frontDoor::getIfAvailable);
        factory.getConnectorCustomizers()
                .addAll(connectorCustomizers.orderedStream().toList());
        factory.getContextCustomizers()
                .addAll(contextCustomizers.orderedStream().toList());
        factory.getProtocolHandlerCustomizers()
                .addAll(protocolHandlerCustomizers.orderedStream().toList());
        return factory;
    }

    /**
     * No per-request observation (metrics, tracing) for session paths: their traffic is the front door's, with its own
     * counters ({@link ProxyMetrics}), and per-URI tags of what reaches the portal (unknown sessions) would be unbounded.
     */
    @Bean
    ObservationPredicate noObservationOfProxiedRequests() {
        return (name, context) -> !(context instanceof ServerRequestObservationContext c
                && c.getCarrier().getRequestURI().startsWith(SessionPaths.PREFIX));
    }

    /**
     * Tomcat must keep {@code %2F} in paths as it is: git links carry URL-encoded repository URLs. Ferry reads the raw
     * path itself.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> keepEncodedSlashes() {
        // Tomcat's socket buffers stay at their 8 KiB default: every open connection holds two, so 64 KiB buffers
        // cost a lot of memory for idle visitors for a modest gain on uploads.
        return factory ->
                factory.addConnectorCustomizers(connector -> connector.setEncodedSolidusHandling("passthrough"));
    }
}
