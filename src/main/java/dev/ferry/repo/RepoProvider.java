package dev.ferry.repo;

/** One of BinderHub's repository providers: the grammar of its spec, its clone URL, and how it is presented. */
public interface RepoProvider {

    /** The provider's id in links ({@code git}, {@code gh}, …): the one its display names, so that the two cannot differ. */
    default String id() {
        return display().id();
    }

    /** Its BinderHub display configuration. */
    ProviderDisplay display();

    default String displayName() {
        return display().displayName();
    }

    /** Parses the spec exactly as it appeared in the raw request path. */
    RepoSpec parse(String rawSpec);

    /** The spec that names the same repository at the given commit. */
    String resolvedSpec(RepoSpec spec, String commit);

    /** A page showing the repository at the commit ({@code binder_ref_url}); empty when the host has none. */
    default String refUrl(RepoSpec spec, String commit) {
        return "";
    }
}
