package dev.ferry.repo;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The providers this installation knows, by id; parses {@code <provider>/<spec>} from launch and build links. */
public final class RepoProviders {

    /** Specs longer than this are refused before any parsing (BinderHub links are far shorter). */
    public static final int MAX_SPEC_LENGTH = 2048;

    private final Map<String, RepoProvider> byId = new LinkedHashMap<>();

    public RepoProviders(List<RepoProvider> providers) {
        providers.forEach(p -> byId.put(p.id(), p));
    }

    public Collection<RepoProvider> all() {
        return byId.values();
    }

    public RepoProvider get(String id) {
        RepoProvider provider = byId.get(id);
        if (provider == null) {
            throw new RepoException(404, "Unknown repository provider '" + Urls.printable(id) + "'. Known providers: "
                    + String.join(", ", byId.keySet()) + ".");
        }
        return provider;
    }

    /** Parses a spec taken from the raw (undecoded) request path. */
    public RepoSpec parse(String providerId, String rawSpec) {
        RepoProvider provider = get(providerId);
        if (rawSpec == null || rawSpec.isEmpty()) {
            throw new RepoException(400, "The link names no repository.");
        }
        if (rawSpec.length() > MAX_SPEC_LENGTH) {
            throw new RepoException(400, "The repository spec is longer than " + MAX_SPEC_LENGTH + " characters.");
        }
        return provider.parse(rawSpec);
    }
}
