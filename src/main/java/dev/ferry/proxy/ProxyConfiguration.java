package dev.ferry.proxy;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ferry.Threads;

@Configuration(proxyBeanMethods = false)
class ProxyConfiguration {

    @Bean
    RouteTable routeTable() {
        return new RouteTable();
    }

    @Bean
    ProxyMetrics proxyMetrics() {
        return new ProxyMetrics();
    }

    @Bean
    ServletRegistrationBean<ProxyServlet> proxyServlet(RouteTable routes, ProxyMetrics metrics) {
        ProxyServlet servlet = new ProxyServlet(routes, Threads.perTask("ferry-ws"), metrics, 5_000, 600_000);
        routes.onRemoval(servlet::forget);
        ServletRegistrationBean<ProxyServlet> registration = new ServletRegistrationBean<>(servlet, ProxyServlet.PREFIX + "*");
        registration.setName("ferryProxy");
        registration.setAsyncSupported(true);
        registration.setLoadOnStartup(1);
        return registration;
    }

    /**
     * Tomcat must keep {@code %2F} in paths as it is: git links carry URL-encoded repository URLs, and notebook paths
     * may contain encoded slashes. Ferry reads the raw path itself.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> keepEncodedSlashes() {
        return factory -> factory.addConnectorCustomizers(connector -> connector.setEncodedSolidusHandling("passthrough"));
    }
}
