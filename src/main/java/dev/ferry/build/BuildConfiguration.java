package dev.ferry.build;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(BuildProperties.class)
class BuildConfiguration {

    @Bean
    BuildService buildService(Builder builder, BuildProperties properties) {
        return new BuildService(builder, properties);
    }
}
