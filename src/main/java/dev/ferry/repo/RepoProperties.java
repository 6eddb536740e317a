package dev.ferry.repo;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Which repositories Ferry may fetch ({@code ferry.repo.*}).
 *
 * @param allowedSchemes          URL schemes accepted for repositories. Only {@code https}, {@code http} and
 *                                {@code git} can be enabled; {@code file}, {@code ssh}, {@code ext::} and scp-like
 *                                {@code host:path} addresses are always refused.
 * @param allowPrivateAddresses   when false (the default), a repository host that resolves to a loopback, private,
 *                                link-local, unspecified, multicast or otherwise reserved address is refused, so that
 *                                strangers cannot make Ferry reach inside the operator's network.
 * @param gitTimeout              connect and read timeout of every git network operation (ref resolution, fetch).
 */
@ConfigurationProperties("ferry.repo")
public record RepoProperties(
        @DefaultValue("https") List<String> allowedSchemes,
        @DefaultValue("false") boolean allowPrivateAddresses,
        @DefaultValue("30s") Duration gitTimeout) {
}
