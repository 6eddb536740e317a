package dev.ferry.repo;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Which repositories Ferry may fetch, and how providers reach them ({@code ferry.repo.*}).
 *
 * @param allowedSchemes        URL schemes accepted for repositories. Only {@code https}, {@code http} and {@code git}
 *                              can be enabled; {@code file}, {@code ssh}, {@code ext::} and scp-like {@code host:path}
 *                              addresses are always refused.
 * @param allowPrivateAddresses when false (the default), a repository host that resolves to a loopback, private,
 *                              link-local, unspecified, multicast or otherwise reserved address is refused, so that
 *                              strangers cannot make Ferry reach inside the operator's network.
 * @param gitTimeout            connect and read timeout of every git network operation (ref resolution, fetch).
 * @param maxFetchSize          bytes one git operation may receive (counted on the wire over HTTP(S), and as the
 *                              pack written to disk on every transport, git:// included); a larger repository fails with a
 *                              sentence naming this limit (0: no limit)
 * @param maxFetchObjects       git objects one fetch may receive (as the pack announces them, on every transport); 0: no limit
 * @param maxFetchTime          how long one git operation (listing refs, or fetching the commit to build) may take in all,
 *                              however steadily the server sends
 * @param githubHost            where {@code gh} repositories live ({@code https://github.example.com} for GitHub Enterprise)
 * @param gitlabHost            where {@code gl} repositories live (a self-hosted GitLab)
 * @param gistHost              where {@code gist} repositories live
 * @param bannedSpecs           regular expressions matched, case-insensitively and from the start, against
 *                              {@code <provider>/<spec>} (e.g. {@code ^gh/some-org/.*}); a match refuses the launch
 * @param allowedSpecs          when not empty, only specs matching one of these (same rules) may launch
 * @param specConfig            per-spec settings: the first entries whose pattern matches apply, in order
 * @param refCacheTtl           how long a branch or tag name stays resolved to the commit it pointed to
 * @param maxCheckoutSize       bytes the files of one repository may add up to when checked out (what a pack of
 *                              compressed zeros unfolds to, not what crossed the wire); counted from the objects' sizes
 *                              while checking out, on every scheme, and again for each session's copy on the local
 *                              platform (0: no limit)
 * @param maxCheckoutFiles      files and folders one repository may hold when checked out, and each session's copy of it
 *                              (0: no limit)
 */
@ConfigurationProperties("ferry.repo")
public record RepoProperties(
        @DefaultValue("https") List<String> allowedSchemes,
        @DefaultValue("false") boolean allowPrivateAddresses,
        @DefaultValue("30s") Duration gitTimeout,
        @DefaultValue("1GB") DataSize maxFetchSize,
        @DefaultValue("10m") Duration maxFetchTime,
        @DefaultValue("1000000") long maxFetchObjects,
        @DefaultValue("https://github.com") String githubHost,
        @DefaultValue("https://gitlab.com") String gitlabHost,
        @DefaultValue("https://gist.github.com") String gistHost,
        @DefaultValue({}) List<String> bannedSpecs,
        @DefaultValue({}) List<String> allowedSpecs,
        @DefaultValue({}) List<SpecConfig> specConfig,
        @DefaultValue("60s") Duration refCacheTtl,
        @DefaultValue("1GB") DataSize maxCheckoutSize,
        @DefaultValue("100000") long maxCheckoutFiles) {

    /**
     * Settings for the specs a pattern matches (BinderHub's {@code spec_config}).
     *
     * @param pattern a regular expression matched like {@code banned-specs}
     * @param quota   concurrent sessions allowed for a matching repository (overrides {@code ferry.quota.per-repo})
     */
    public record SpecConfig(String pattern, Integer quota) {}
}
