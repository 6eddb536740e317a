package dev.ferry.access;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Who may call the build API how often ({@code ferry.rate-limit.*}, {@code ferry.ban-networks},
 * {@code ferry.trusted-proxies}).
 *
 * @param rateLimit      per-address limits on the build API
 * @param banNetworks    address ranges (CIDR) whose requests to launch pages, the build API and workshop links are
 *                       refused
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
     * @param tokenLifetime     how long a launch page's build token exempts its launch from the limit
     * @param tokenSecret       the key that signs build tokens; empty: a random key per process (set one shared key
     *                          when several Ferry replicas serve the same host)
     * @param tokenUses         how many launches one build token may start (following a launch already started, as
     *                          the page does when it reconnects, is not a new launch); each replica counts its own
     * @param tokensPerMinute   launch pages one address may be given a build token with per minute (also the number
     *                          at once); beyond it the page still works, and its launch counts against the limit above
     *                          (0: no limit)
     * @param streamsPerAddress build event streams one address may keep open at once (0: no bound); a classroom behind
     *                          one NAT address launching together is one address
     * @param maxStreams        event streams (build and workshop) open at once from all addresses together (0: no
     *                          bound); each holds a thread while it is open
     */
    public record RateLimit(
            @DefaultValue("0") int requestsPerMinute,
            @DefaultValue("20") int burst,
            @DefaultValue("10m") Duration tokenLifetime,
            @DefaultValue("") String tokenSecret,
            @DefaultValue("1") int tokenUses,
            @DefaultValue("30") int tokensPerMinute,
            @DefaultValue("50") int streamsPerAddress,
            @DefaultValue("500") int maxStreams) {}
}
