package dev.ferry.repo;

/** One of BinderHub's repository providers: the grammar of its spec and how a resolved spec is written. */
public interface RepoProvider {

    /** The provider's id in launch links ({@code git}, {@code gh}, …). */
    String id();

    /** A human name for pages ("Git repository"). */
    String displayName();

    /** Parses the spec exactly as it appeared in the raw request path. */
    RepoSpec parse(String rawSpec);

    /** The spec that names the same repository at the given commit. */
    String resolvedSpec(RepoSpec spec, String commit);
}
