package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.ferry.testing.EventStream;

/**
 * BinderHub's fallback for renamed default branches: a {@code gh} link to {@code master} of a repository that only has
 * {@code main} (or the other way round) launches the sibling and says so on the events the page shows and in the
 * {@code ready} message; other refs, and other providers, get no fallback.
 */
class MasterMainFallbackTest extends LocalPlatformTestSupport {

    @DynamicPropertySource
    static void github(DynamicPropertyRegistry registry) {
        registry.add("ferry.repo.github-host", () -> "http://127.0.0.1:" + GIT.port() + "/git");
    }

    @AfterEach
    void stop() {
        stopAllSessions();
    }

    private EventStream.Result build(String spec) throws Exception {
        return EventStream.read(base() + "/build/gh/" + spec);
    }

    /** Leaves the repository with {@code keep} as its default branch and no {@code main}. */
    private static void onlyBranch(String name, String keep) throws Exception {
        try (org.eclipse.jgit.lib.Repository repo = new org.eclipse.jgit.storage.file.FileRepositoryBuilder()
                .setGitDir(GIT.reposDir().resolve(name + ".git").toFile())
                .build()) {
            repo.updateRef(org.eclipse.jgit.lib.Constants.HEAD).link("refs/heads/" + keep);
            org.eclipse.jgit.lib.RefUpdate delete = repo.updateRef("refs/heads/main");
            delete.setForceUpdate(true);
            assertThat(delete.delete()).isEqualTo(org.eclipse.jgit.lib.RefUpdate.Result.FORCED);
        }
    }

    @Test
    void aLinkToMasterOfARepositoryWithOnlyMainLaunchesMainAndSaysSo() throws Exception {
        GIT.createRepo("octo/renamed", files("README.md", "# renamed\n"));
        String main = GIT.commit("octo/renamed", "main", files("notes.txt", "x\n"), "second");

        EventStream.Result result = build("octo/renamed/master");

        Map<String, Object> ready = result.last();
        assertThat(ready.get("phase")).isEqualTo("ready");
        assertThat(ready.get("binder_persistent_request")).isEqualTo("v2/gh/octo/renamed/" + main);
        String note = "The branch 'master' does not exist in http://127.0.0.1:" + GIT.port() + "/git/octo/renamed; "
                + "launching its 'main' branch instead";
        assertThat(result.events()).anySatisfy(e -> {
            assertThat(e.get("phase")).isEqualTo("waiting");
            assertThat((String) e.get("note")).startsWith(note);
        });
        assertThat((String) ready.get("message")).startsWith("server running at " + ready.get("url") + "\n" + note);
        assertThat((String) ready.get("note")).startsWith(note);
    }

    @Test
    void aLinkToMainOfARepositoryWithOnlyMasterLaunchesMaster() throws Exception {
        GIT.createRepo("octo/old", files("README.md", "# old\n"));
        String master = GIT.commit("octo/old", "master", files("notes.txt", "x\n"), "on master");
        onlyBranch("octo/old", "master");

        Map<String, Object> ready = build("octo/old/main").last();

        assertThat(ready.get("phase")).isEqualTo("ready");
        assertThat(ready.get("binder_persistent_request")).isEqualTo("v2/gh/octo/old/" + master);
        assertThat((String) ready.get("message"))
                .contains("The branch 'main' does not exist")
                .contains("launching its 'master' branch");
    }

    @Test
    void whenNeitherExistsTheFailureNamesBoth() throws Exception {
        GIT.createRepo("octo/trunk", files("README.md", "# t\n"));
        GIT.commit("octo/trunk", "trunk", files("t.txt", "t\n"), "trunk");
        onlyBranch("octo/trunk", "trunk");

        Map<String, Object> failed = build("octo/trunk/master").last();

        assertThat(failed.get("phase")).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(404);
        assertThat((String) failed.get("message"))
                .contains("Could not find the branch 'master'")
                .contains("nor the branch 'main' that often replaces it");
    }

    @Test
    void otherRefsGetNoFallback() throws Exception {
        GIT.createRepo("octo/plain", files("README.md", "# p\n"));
        Map<String, Object> failed = build("octo/plain/develop").last();
        assertThat(failed.get("phase")).isEqualTo("failed");
        assertThat((String) failed.get("message"))
                .contains("Could not find the branch or tag 'develop'")
                .doesNotContain("main");
    }
}
