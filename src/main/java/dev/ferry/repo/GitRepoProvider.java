package dev.ferry.repo;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * BinderHub's {@code git} provider: the spec is {@code <url-encoded clone URL>/<ref>}. The URL part is decoded
 * exactly once (so {@code %252F} stays {@code %2F} and is refused as not encoded); the ref is everything after the
 * first slash, decoded once.
 */
public final class GitRepoProvider implements RepoProvider {

    private static final ProviderDisplay DISPLAY = new ProviderDisplay(
            "git",
            "Git repository",
            "Arbitrary git repository URL (https://git.example.com/repo)",
            "example: https://git.example.com/owner/repo.git",
            true,
            true,
            "HEAD",
            "[^/]+/.+",
            null);

    @Override
    public ProviderDisplay display() {
        return DISPLAY;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        int slash = rawSpec.indexOf('/');
        if (slash < 0) {
            throw new RepoException(
                    400,
                    "The link names no ref. Git links have the form /v2/git/<URL-encoded repository URL>/<ref>, "
                            + "for example /v2/git/https%3A%2F%2Fexample.org%2Frepo.git/HEAD.");
        }
        String encodedUrl = rawSpec.substring(0, slash);
        String url = decodeOnce(encodedUrl);
        if (!url.contains("://")) {
            throw new RepoException(
                    400,
                    "The repository URL in the link is not URL-encoded. Git links have the form "
                            + "/v2/git/<URL-encoded repository URL>/<ref>, for example /v2/git/https%3A%2F%2Fexample.org%2Frepo.git/HEAD.");
        }
        String ref = GitRefs.requireValid(decodeOnce(rawSpec.substring(slash + 1)));
        String shown = Urls.redact(url).equals(url)
                ? rawSpec
                : URLEncoder.encode(Urls.redact(url), StandardCharsets.UTF_8) + rawSpec.substring(slash);
        return new RepoSpec(id(), rawSpec, url, ref, shown);
    }

    @Override
    public String resolvedSpec(RepoSpec spec, String commit) {
        return spec.shownSpec().substring(0, spec.shownSpec().indexOf('/')) + "/" + commit;
    }

    static String decodeOnce(String text) {
        try {
            // URLDecoder turns '+' into a space; links encode spaces as %20, so keep '+' literal.
            return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new RepoException(
                    400, "The link contains a malformed %-escape; check that it was copied completely.");
        }
    }
}
