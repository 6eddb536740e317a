package dev.ferry.cull;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ferry.session.SessionService;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(CullProperties.class)
class CullConfiguration {

    @Bean
    Culler culler(SessionService sessions, CullProperties properties, ObjectProvider<Leadership> leadership) {
        Culler culler = new Culler(sessions, properties, leadership.getIfAvailable(() -> Leadership.ALWAYS));
        culler.start();
        return culler;
    }
}
