package dev.ferry.repo;

/**
 * BinderHub's {@code gl} provider: {@code <url-encoded namespace/project>/<ref>}. The host is configurable for
 * self-hosted GitLab.
 */
public final class GitLabRepoProvider implements RepoProvider {

    private final String host;
    private final ProviderDisplay display;

    public GitLabRepoProvider(String host) {
        this.host = RepoHosts.base(host);
        boolean gitlab = this.host.equals("https://gitlab.com");
        this.display = new ProviderDisplay(
                "gl",
                gitlab ? "GitLab.com" : "GitLab",
                (gitlab ? "GitLab.com" : "GitLab") + " repository or URL",
                "example: group/subgroup/project or " + this.host + "/group/project",
                true,
                true,
                "HEAD",
                "[^/]+/.+",
                "^(" + RepoHosts.regexLiteral(this.host + "/")
                        + ")?(?<repo>[^/]+/[^/-][^/]*(/[^/-][^/]*)*?)(\\.git)?/?$");
    }

    @Override
    public ProviderDisplay display() {
        return display;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        int slash = rawSpec.indexOf('/');
        if (slash < 0 || slash == rawSpec.length() - 1) {
            throw new RepoException(
                    400,
                    "An unresolved ref is required. GitLab links have the form "
                            + "/v2/gl/<URL-encoded group/project>/<ref>, for example /v2/gl/group%2Fproject/HEAD.");
        }
        String namespace = GitRepoProvider.decodeOnce(rawSpec.substring(0, slash));
        if (namespace.endsWith(".git")) {
            namespace = namespace.substring(0, namespace.length() - 4);
        }
        String[] segments = namespace.split("/", -1);
        if (segments.length < 2) {
            throw new RepoException(
                    400, "'" + Urls.printable(namespace) + "' is not a GitLab project: use group/project.");
        }
        for (String segment : segments) {
            RepoHosts.requireName(segment, "GitLab group or project name");
        }
        String ref = GitRefs.requireValid(GitRepoProvider.decodeOnce(rawSpec.substring(slash + 1)));
        return new RepoSpec(id(), rawSpec, host + "/" + namespace + ".git", ref);
    }

    @Override
    public String resolvedSpec(RepoSpec spec, String commit) {
        return spec.spec().substring(0, spec.spec().indexOf('/')) + "/" + commit;
    }

    @Override
    public String refUrl(RepoSpec spec, String commit) {
        String project = spec.repoUrl().substring(0, spec.repoUrl().length() - ".git".length());
        return project + "/tree/" + commit;
    }
}
