package dev.ferry.access;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(AbuseProperties.class)
class AccessConfiguration {

    @Bean
    LaunchGuard launchGuard(AbuseProperties abuse) {
        return new LaunchGuard(
                new ClientAddresses(new CidrSet(abuse.trustedProxies(), "ferry.trusted-proxies")),
                new CidrSet(abuse.banNetworks(), "ferry.ban-networks"),
                new RateLimiter(
                        abuse.rateLimit().requestsPerMinute(), abuse.rateLimit().burst()),
                new BuildTokens(
                        abuse.rateLimit().tokenSecret(),
                        abuse.rateLimit().tokenLifetime(),
                        abuse.rateLimit().tokenUses()),
                new RateLimiter(
                        abuse.rateLimit().tokensPerMinute(), abuse.rateLimit().tokensPerMinute()));
    }

    @Bean
    StreamLimits streamLimits(AbuseProperties abuse) {
        return new StreamLimits(
                abuse.rateLimit().streamsPerAddress(), abuse.rateLimit().maxStreams());
    }
}
