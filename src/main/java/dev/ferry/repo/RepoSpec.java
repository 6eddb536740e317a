package dev.ferry.repo;

/**
 * A repository as a launch link names it: the provider ({@code git}, …), the spec exactly as it appeared in the URL
 * path (still URL-encoded where the provider's grammar encodes), the clone URL and the ref asked for (not resolved),
 * and the spec as it may be shown ({@code shownSpec}: credentials in an embedded URL replaced by {@code ***}).
 */
public record RepoSpec(String provider, String spec, String repoUrl, String ref, String shownSpec) {

    public RepoSpec(String provider, String spec, String repoUrl, String ref) {
        this(provider, spec, repoUrl, ref, spec);
    }

    /** {@code v2/<provider>/<spec>}: BinderHub's {@code binder_request} (without credentials). */
    public String request() {
        return "v2/" + provider + "/" + shownSpec;
    }

    /** The clone URL safe to show. */
    public String displayUrl() {
        return Urls.redact(repoUrl);
    }

    @Override
    public String toString() {
        return provider + ":" + Urls.redact(repoUrl) + "@" + Urls.printable(ref);
    }
}
