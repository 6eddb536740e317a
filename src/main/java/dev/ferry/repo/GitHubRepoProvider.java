package dev.ferry.repo;

/**
 * BinderHub's {@code gh} provider: {@code <owner>/<repo>/<ref>}, split at most twice so that the ref may contain
 * {@code /}; a {@code .git} suffix on the repository is dropped. The host is configurable for GitHub Enterprise.
 * Refs resolve with {@code ls-remote} like every other provider: no GitHub API, no rate limit.
 */
public final class GitHubRepoProvider implements RepoProvider {

    private final String host;
    private final ProviderDisplay display;

    public GitHubRepoProvider(String host) {
        this.host = RepoHosts.base(host);
        boolean github = this.host.equals("https://github.com");
        this.display = new ProviderDisplay(
                "gh",
                github ? "GitHub" : "GitHub Enterprise",
                "GitHub repository name or URL",
                "example: binder-examples/requirements or " + this.host + "/binder-examples/requirements",
                false,
                true,
                "HEAD",
                "[^/]+/[^/]+/.+",
                "^(" + RepoHosts.regexLiteral(this.host + "/") + ")?(?<repo>[^/]+/[^/]+?)(\\.git)?/?$");
    }

    @Override
    public ProviderDisplay display() {
        return display;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        String[] parts = rawSpec.split("/", 3);
        if (parts.length != 3 || parts[2].isEmpty()) {
            String hint = parts.length == 2 ? " Did you mean \"" + Urls.printable(rawSpec) + "/HEAD\"?" : "";
            throw new RepoException(
                    400,
                    "Spec is not of the form \"user/repo/ref\", provided: \"" + Urls.printable(rawSpec) + "\"." + hint);
        }
        String owner = RepoHosts.requireName(GitRepoProvider.decodeOnce(parts[0]), "GitHub user or organisation name");
        String repo = GitRepoProvider.decodeOnce(parts[1]);
        if (repo.endsWith(".git")) {
            repo = repo.substring(0, repo.length() - 4);
        }
        RepoHosts.requireName(repo, "GitHub repository name");
        String ref = GitRefs.requireValid(GitRepoProvider.decodeOnce(parts[2]));
        return new RepoSpec(id(), rawSpec, host + "/" + owner + "/" + repo, ref);
    }

    @Override
    public String resolvedSpec(RepoSpec spec, String commit) {
        String[] parts = spec.spec().split("/", 3);
        String repo = parts[1].endsWith(".git") ? parts[1].substring(0, parts[1].length() - 4) : parts[1];
        return parts[0] + "/" + repo + "/" + commit;
    }

    @Override
    public String refUrl(RepoSpec spec, String commit) {
        return spec.repoUrl() + "/tree/" + commit;
    }
}
