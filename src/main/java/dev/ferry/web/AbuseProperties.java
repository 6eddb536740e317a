package dev.ferry.web;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Who may call the build API how often ({@code ferry.rate-limit.*}, {@code ferry.ban-networks},
 * {@code ferry.trusted-proxies}).
 *
 * @param rateLimit      per-address limits on the build API
 * @param banNetworks    address ranges (CIDR) whose requests to launch pages and the build API are refused
 * @param trustedProxies address ranges of the proxies in front of Ferry: only from them is {@code X-Forwarded-For}
 *                       believed, so that a visitor cannot pick the address its limits count against
 */
@ConfigurationProperties("ferry")
public record AbuseProperties(
        @DefaultValue RateLimit rateLimit,
        @DefaultValue({}) List<String> banNetworks,
        @DefaultValue({}) List<String> trustedProxies) {

    /**
     * @param requestsPerMinute build API requests one address may make per minute on average (0: no limit)
     * @param burst             requests it may make at once before the average applies
     * @param tokenLifetime     how long a launch page's build token exempts its requests from the limit
     * @param tokenSecret       the key that signs build tokens; empty: a random key per process (set one shared key
     *                          when several Ferry replicas serve the same host)
     */
    public record RateLimit(@DefaultValue("0") int requestsPerMinute, @DefaultValue("20") int burst,
                            @DefaultValue("10m") Duration tokenLifetime, @DefaultValue("") String tokenSecret) {
    }
}
