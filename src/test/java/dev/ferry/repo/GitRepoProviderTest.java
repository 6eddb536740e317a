package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

class GitRepoProviderTest {

    private final RepoProviders providers = new RepoProviders(List.of(new GitRepoProvider()));

    /** Asserts that the git provider refuses {@code spec} with a {@link RepoException}. */
    private AbstractThrowableAssert<?, ? extends Throwable> assertGitSpecRefused(String spec) {
        return assertThatThrownBy(() -> providers.parse("git", spec)).isInstanceOf(RepoException.class);
    }

    @Test
    void readsEncodedUrlAndRef() {
        RepoSpec spec = providers.parse("git", "https%3A%2F%2Fexample.org%2Fowner%2Frepo.git/main");
        assertThat(spec.repoUrl()).isEqualTo("https://example.org/owner/repo.git");
        assertThat(spec.ref()).isEqualTo("main");
        assertThat(spec.request()).isEqualTo("v2/git/https%3A%2F%2Fexample.org%2Fowner%2Frepo.git/main");
    }

    @Test
    void refMayContainSlashes() {
        RepoSpec spec = providers.parse("git", "https%3A%2F%2Fexample.org%2Frepo.git/feature/new-plot");
        assertThat(spec.ref()).isEqualTo("feature/new-plot");
    }

    @Test
    void resolvedSpecReplacesTheRefWithTheCommit() {
        RepoSpec spec = providers.parse("git", "https%3A%2F%2Fexample.org%2Frepo.git/feature/x");
        String sha = "0123456789abcdef0123456789abcdef01234567";
        assertThat(new GitRepoProvider().resolvedSpec(spec, sha))
                .isEqualTo("https%3A%2F%2Fexample.org%2Frepo.git/" + sha);
    }

    @Test
    void unencodedUrlIsExplained() {
        assertGitSpecRefused("https:/example.org/repo.git/main").hasMessageContaining("not URL-encoded");
    }

    @Test
    void doubleEncodedUrlIsNotDecodedTwice() {
        assertGitSpecRefused("https%253A%252F%252Fexample.org%252Frepo.git/main")
                .hasMessageContaining("not URL-encoded");
    }

    @Test
    void missingRefIsExplained() {
        assertGitSpecRefused("https%3A%2F%2Fexample.org%2Frepo.git").hasMessageContaining("names no ref");
        assertGitSpecRefused("https%3A%2F%2Fexample.org%2Frepo.git/").hasMessageContaining("names no ref");
    }

    @Test
    void invalidRefNamesAreRefused() {
        for (String ref : List.of("a..b", "x%0Ay", "-rf", "a b", "x~1", "HEAD@{1}", "a:b", "end.lock")) {
            assertThatThrownBy(() -> providers.parse("git", "https%3A%2F%2Fexample.org%2Frepo.git/" + ref))
                    .as(ref)
                    .isInstanceOf(RepoException.class)
                    .hasMessageContaining("not a valid");
        }
    }

    @Test
    void unknownProviderIs404() {
        assertThatThrownBy(() -> providers.parse("svn", "x/y"))
                .isInstanceOf(RepoException.class)
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(404))
                .hasMessageContaining("Unknown repository provider 'svn'");
    }

    @Test
    void malformedEscapeIsRefused() {
        assertGitSpecRefused("https%3A%2F%2Fexample.org%2Frepo.git%G1/main").hasMessageContaining("malformed");
    }

    @Test
    void overlongSpecIsRefused() {
        assertGitSpecRefused("a".repeat(3000) + "/main").hasMessageContaining("longer than");
    }
}
