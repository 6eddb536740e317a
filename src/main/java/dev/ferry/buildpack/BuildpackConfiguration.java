package dev.ferry.buildpack;

import java.util.Optional;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(BuildpackProperties.class)
class BuildpackConfiguration {

    @Bean
    Detector detector(BuildpackProperties properties) {
        return new Detector(Optional.of(properties.s2iBuilder()));
    }

    @Bean
    DockerfileRenderer dockerfileRenderer(BuildpackProperties properties) {
        return new DockerfileRenderer(properties);
    }
}
