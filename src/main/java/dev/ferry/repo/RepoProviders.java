package dev.ferry.repo;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The providers this installation knows, by id; parses {@code <provider>/<spec>} from launch and build links and
 * applies the operator's banned and allowed spec patterns and per-spec settings.
 */
public final class RepoProviders {

    /** Specs longer than this are refused before any parsing (BinderHub links are far shorter). */
    public static final int MAX_SPEC_LENGTH = 2048;

    private final Map<String, RepoProvider> byId = new LinkedHashMap<>();
    private final List<Pattern> banned;
    private final List<Pattern> allowed;
    private final List<Map.Entry<Pattern, RepoProperties.SpecConfig>> specConfig;

    public RepoProviders(List<RepoProvider> providers) {
        this(providers, List.of(), List.of(), List.of());
    }

    public RepoProviders(
            List<RepoProvider> providers,
            List<String> bannedSpecs,
            List<String> allowedSpecs,
            List<RepoProperties.SpecConfig> specConfig) {
        providers.forEach(p -> byId.put(p.id(), p));
        this.banned = bannedSpecs.stream()
                .map(p -> compile(p, "ferry.repo.banned-specs"))
                .toList();
        this.allowed = allowedSpecs.stream()
                .map(p -> compile(p, "ferry.repo.allowed-specs"))
                .toList();
        this.specConfig = specConfig.stream()
                .map(c -> Map.entry(compile(c.pattern(), "ferry.repo.spec-config"), c))
                .toList();
    }

    private static Pattern compile(String pattern, String setting) {
        if (pattern == null) {
            throw new IllegalArgumentException(setting + " has an entry without a pattern");
        }
        try {
            return Pattern.compile(pattern, Pattern.CASE_INSENSITIVE);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(
                    setting + " has an invalid regular expression '" + pattern + "': " + e.getDescription());
        }
    }

    public Collection<RepoProvider> all() {
        return byId.values();
    }

    public RepoProvider get(String id) {
        RepoProvider provider = byId.get(id);
        if (provider == null) {
            throw new RepoException(
                    404,
                    "Unknown repository provider '" + Urls.printable(id) + "'. Known providers: "
                            + String.join(", ", byId.keySet()) + ".");
        }
        return provider;
    }

    /** Parses a spec taken from the raw (undecoded) request path, and refuses banned (or not allowed) specs. */
    public RepoSpec parse(String providerId, String rawSpec) {
        RepoProvider provider = get(providerId);
        if (rawSpec == null || rawSpec.isEmpty()) {
            throw new RepoException(400, "The link names no repository.");
        }
        if (rawSpec.length() > MAX_SPEC_LENGTH) {
            throw new RepoException(400, "The repository spec is longer than " + MAX_SPEC_LENGTH + " characters.");
        }
        RepoSpec spec = provider.parse(rawSpec);
        String key = providerId + "/" + rawSpec;
        boolean isBanned = banned.stream().anyMatch(p -> p.matcher(key).lookingAt())
                || (!allowed.isEmpty()
                        && allowed.stream().noneMatch(p -> p.matcher(key).lookingAt()));
        if (isBanned) {
            throw new RepoException(
                    403,
                    "Sorry, " + Urls.printable(providerId + "/" + spec.shownSpec())
                            + " has been temporarily disabled from launching. Please contact admins for more info!");
        }
        return spec;
    }

    /** The per-spec settings for this spec: every matching {@code spec-config} entry applies, later ones win. */
    public SpecSettings settingsFor(RepoSpec spec) {
        String key = spec.provider() + "/" + spec.spec();
        Optional<Integer> quota = Optional.empty();
        for (Map.Entry<Pattern, RepoProperties.SpecConfig> entry : specConfig) {
            if (entry.getKey().matcher(key).lookingAt() && entry.getValue().quota() != null) {
                quota = Optional.of(entry.getValue().quota());
            }
        }
        return new SpecSettings(quota);
    }
}
