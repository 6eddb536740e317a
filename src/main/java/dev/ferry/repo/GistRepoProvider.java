package dev.ferry.repo;

/**
 * BinderHub's {@code gist} provider: {@code <user>/<gist id>[/<ref>]}; without a ref the gist's latest version
 * ({@code HEAD}). Secret gists cannot be told apart without GitHub's API, which Ferry does not call: a secret gist
 * launches like a public one when its URL is known (BinderHub refuses them unless allowed).
 */
public final class GistRepoProvider implements RepoProvider {

    private final String host;
    private final ProviderDisplay display;

    public GistRepoProvider(String host) {
        this.host = RepoHosts.base(host);
        this.display = new ProviderDisplay(
                "gist",
                "Gist",
                "Gist ID (username/gistId) or URL",
                "example: someone/0123456789abcdef or " + this.host + "/someone/0123456789abcdef",
                false,
                true,
                "HEAD",
                "[^/]+/[^/]+(/.+)?",
                "^(" + RepoHosts.regexLiteral(this.host + "/") + ")?(?<repo>[^/]+/[0-9a-fA-F]+)/?$");
    }

    @Override
    public ProviderDisplay display() {
        return display;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        String[] parts = rawSpec.split("/", 3);
        if (parts.length < 2 || parts[1].isEmpty()) {
            throw new RepoException(400, "Gist links have the form /v2/gist/<user>/<gist id>[/<ref>].");
        }
        String user = RepoHosts.requireName(GitRepoProvider.decodeOnce(parts[0]), "GitHub user name");
        String gist = RepoHosts.requireName(GitRepoProvider.decodeOnce(parts[1]), "gist id");
        String ref = parts.length == 3 && !parts[2].isEmpty()
                ? GitRefs.requireValid(GitRepoProvider.decodeOnce(parts[2]))
                : "HEAD";
        return new RepoSpec(id(), rawSpec, host + "/" + user + "/" + gist + ".git", ref);
    }

    @Override
    public String resolvedSpec(RepoSpec spec, String commit) {
        String[] parts = spec.spec().split("/", 3);
        return parts[0] + "/" + parts[1] + "/" + commit;
    }

    @Override
    public String refUrl(RepoSpec spec, String commit) {
        return spec.repoUrl().substring(0, spec.repoUrl().length() - ".git".length()) + "/" + commit;
    }
}
