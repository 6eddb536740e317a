package dev.ferry.proxy;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@org.springframework.boot.context.properties.EnableConfigurationProperties(ProxyProperties.class)
class ProxyConfiguration {

    private static final String SERVLET_NAME = "ferryProxy";

    @Bean
    RouteTable routeTable(ProxyProperties properties) {
        RouteTable routes = new RouteTable();
        properties.routes().forEach((name, target) -> {
            java.net.URI uri = java.net.URI.create(target);
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

    @Bean
    ServletRegistrationBean<ProxyServlet> proxyServlet(RouteTable routes, ProxyMetrics metrics, ProxyProperties properties,
                                                       dev.ferry.FerryProperties ferry) {
        ProxyServlet servlet = new ProxyServlet(routes, metrics,
                (int) properties.connectTimeout().toMillis(), (int) properties.readTimeout().toMillis(), ferry.publicUrl());
        routes.onRemoval(servlet::forget);
        ServletRegistrationBean<ProxyServlet> registration = new ServletRegistrationBean<>(servlet, ProxyServlet.PREFIX + "*");
        registration.setName(SERVLET_NAME);
        registration.setAsyncSupported(true);
        registration.setLoadOnStartup(1);
        return registration;
    }

    /**
     * The front door (on unless turned off or per-session origins are used), with the servlet container's own limits:
     * the same header size, keep-alive timeout and requests per connection as {@code server.*} configures for Tomcat.
     */
    @Bean(destroyMethod = "close")
    FrontDoor frontDoor(RouteTable routes, SessionHosts hosts, ProxyMetrics metrics, ProxyProperties properties,
                        org.springframework.core.env.Environment environment) {
        org.springframework.boot.context.properties.bind.Binder binder =
                org.springframework.boot.context.properties.bind.Binder.get(environment);
        String contextPath = binder.bind("server.servlet.context-path", String.class).orElse("").replaceAll("/+$", "");
        int maxHeader = (int) binder.bind("server.max-http-request-header-size", org.springframework.util.unit.DataSize.class)
                .orElse(org.springframework.util.unit.DataSize.ofKilobytes(8)).toBytes();
        java.time.Duration keepAlive = binder.bind("server.tomcat.keep-alive-timeout", java.time.Duration.class)
                .orElseGet(() -> binder.bind("server.tomcat.connection-timeout", java.time.Duration.class)
                        .orElse(java.time.Duration.ofSeconds(60)));
        int maxRequests = binder.bind("server.tomcat.max-keep-alive-requests", Integer.class).orElse(100);
        java.util.List<String> trusted = binder.bind("ferry.trusted-proxies",
                org.springframework.boot.context.properties.bind.Bindable.listOf(String.class)).orElse(java.util.List.of());
        return new FrontDoor(routes, hosts, metrics, new FrontDoor.Settings(contextPath, properties.connectTimeout(),
                properties.readTimeout(), maxHeader, keepAlive, maxRequests, properties.requestHeadTimeout(),
                properties.maxConnections(), properties.maxConnectionsPerAddress()),
                dev.ferry.web.ClientAddresses.trusting(trusted));
    }

    /** Tomcat as Spring Boot configures it (the same customizers), behind the front door when there is one. */
    @Bean
    FrontDoorWebServerFactory tomcatServletWebServerFactory(
            org.springframework.beans.factory.ObjectProvider<org.springframework.boot.tomcat.TomcatConnectorCustomizer> connectorCustomizers,
            org.springframework.beans.factory.ObjectProvider<org.springframework.boot.tomcat.TomcatContextCustomizer> contextCustomizers,
            org.springframework.beans.factory.ObjectProvider<org.springframework.boot.tomcat.TomcatProtocolHandlerCustomizer<?>> protocolHandlerCustomizers,
            org.springframework.beans.factory.ObjectProvider<FrontDoor> frontDoor) {
        FrontDoorWebServerFactory factory = new FrontDoorWebServerFactory(frontDoor::getIfAvailable);
        factory.getConnectorCustomizers().addAll(connectorCustomizers.orderedStream().toList());
        factory.getContextCustomizers().addAll(contextCustomizers.orderedStream().toList());
        factory.getProtocolHandlerCustomizers().addAll(protocolHandlerCustomizers.orderedStream().toList());
        return factory;
    }

    /** Proxied requests skip the servlet filter chain ({@link ProxyValve}), unless per-session origins need its filter. */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> proxyAheadOfFilters(ServletRegistrationBean<ProxyServlet> proxy,
                                                                                  SessionHosts hosts) {
        return factory -> {
            if (!hosts.enabled()) {
                factory.addContextValves(new ProxyValve(proxy.getServlet(), SERVLET_NAME));
            }
        };
    }

    /**
     * No per-request observation (metrics, tracing) for proxied traffic: it is the hot path, it has its own counters
     * ({@link ProxyMetrics}), and per-URI tags of notebook traffic would be unbounded.
     */
    @Bean
    io.micrometer.observation.ObservationPredicate noObservationOfProxiedRequests() {
        return (name, context) -> !(context instanceof org.springframework.http.server.observation.ServerRequestObservationContext c
                && c.getCarrier().getRequestURI().startsWith(ProxyServlet.PREFIX));
    }

    /**
     * Tomcat must keep {@code %2F} in paths as it is: git links carry URL-encoded repository URLs, and notebook paths
     * may contain encoded slashes. Ferry reads the raw path itself.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> keepEncodedSlashes() {
        // Tomcat's socket buffers stay at their 8 KiB default: every open connection (each idle notebook WebSocket
        // among them) holds two, so 64 KiB buffers cost 256 MiB for 2,000 idle tabs for a modest gain on uploads.
        return factory -> factory.addConnectorCustomizers(connector -> connector.setEncodedSolidusHandling("passthrough"));
    }
}
