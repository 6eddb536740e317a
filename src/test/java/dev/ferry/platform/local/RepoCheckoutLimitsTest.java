package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.TreeFormatter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.ferry.FerryApplication;
import dev.ferry.testing.EventStream;
import dev.ferry.testing.GitDaemon;
import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TempDirs;
import dev.ferry.testing.TestGitServer;

/**
 * A tiny repository must not fill the disk: what a checkout writes is bounded (ferry.repo.max-checkout-size and
 * -files, here 50 MiB and 200), on every scheme (smart HTTP from JGit's GitServlet, git:// from git's own daemon), and
 * again for each session's copy; a repository over the bound fails with a sentence and leaves nothing on disk. A
 * malformed tree is the repository's fault (4xx), not Ferry's.
 */
class RepoCheckoutLimitsTest {

    private static final long ZEROS = 200L << 20; // 200 MiB of zeros: a pack of a few hundred KB
    private static final String TOO_LARGE =
            "This repository's files add up to more than 50 MiB when checked out (Ferry's "
                    + "limit for one repository, ferry.repo.max-checkout-size). Launch a smaller repository, or ask the operator to "
                    + "raise the limit.";

    private static TestGitServer git;
    private static Path workDir;
    private static int port;
    private static ConfigurableApplicationContext ferry;

    @BeforeAll
    static void start() throws Exception {
        git = new TestGitServer();
        workDir = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-checkout-limits"));
        port = Ports.free();
        ferry = new SpringApplicationBuilder(FerryApplication.class)
                .run(
                        "--server.port=" + port,
                        "--ferry.platform=local",
                        "--ferry.local.work-dir=" + workDir,
                        "--ferry.repo.allowed-schemes=http,git",
                        "--ferry.repo.allow-private-addresses=true",
                        "--ferry.repo.max-checkout-size=50MB",
                        "--ferry.repo.max-checkout-files=200",
                        "--spring.jmx.enabled=false",
                        "--logging.level.root=WARN");
    }

    @AfterAll
    static void stop() throws Exception {
        if (ferry != null) {
            ferry.close();
        }
        if (git != null) {
            git.close();
        }
    }

    private static EventStream.Result build(String repoUrl) throws Exception {
        return EventStream.read("http://127.0.0.1:" + port + "/build/git/"
                + URLEncoder.encode(repoUrl, StandardCharsets.UTF_8) + "/main");
    }

    /** One file of {@link #ZEROS} zero bytes beside a README. */
    private static ObjectId zerosTree(ObjectInserter inserter) throws Exception {
        ObjectId zeros = inserter.insert(Constants.OBJ_BLOB, ZEROS, new Zeros(ZEROS));
        ObjectId readme = inserter.insert(Constants.OBJ_BLOB, "# zeros\n".getBytes(StandardCharsets.UTF_8));
        TreeFormatter tree = new TreeFormatter();
        tree.append("README.md", FileMode.REGULAR_FILE, readme);
        tree.append("zeros.bin", FileMode.REGULAR_FILE, zeros);
        return inserter.insert(tree);
    }

    private static void assertFailedWithNothingLeft(
            EventStream.Result result, int status, String message, String repo) {
        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(status);
        assertThat(((String) failed.get("message")).strip()).isEqualTo(message);
        assertThat(LocalLayout.children(workDir.resolve("envs")))
                .as("what the build wrote")
                .noneMatch(env -> env.getFileName().toString().contains(repo));
    }

    @Test
    void aTinyPackOfZerosOverHttpFailsWith413AndLeavesNothingOnDisk() throws Exception {
        String url = git.createRawRepo("zeros-http", RepoCheckoutLimitsTest::zerosTree);
        assertThat(Files.walk(git.reposDir().resolve("zeros-http.git"))
                        .mapToLong(f -> f.toFile().length())
                        .sum())
                .as("the repository on the server is tiny")
                .isLessThan(2L << 20);

        assertFailedWithNothingLeft(build(url), 413, TOO_LARGE, "zeros-http");
    }

    @Test
    void aTinyPackOfZerosOverGitProtocolFailsWith413AndLeavesNothingOnDisk() throws Exception {
        Parts.requireGitDaemon();
        git.createRawRepo("zeros-git", RepoCheckoutLimitsTest::zerosTree);
        try (GitDaemon daemon = new GitDaemon(git.reposDir())) {
            assertFailedWithNothingLeft(build(daemon.url("zeros-git")), 413, TOO_LARGE, "zeros-git");
        }
    }

    @Test
    void moreFilesThanTheLimitFailWith413AndLeaveNothingOnDisk() throws Exception {
        String url = git.createRawRepo("many-files", inserter -> {
            ObjectId empty = inserter.insert(Constants.OBJ_BLOB, new byte[0]);
            TreeFormatter tree = new TreeFormatter();
            for (int i = 0; i < 300; i++) {
                tree.append(String.format("f%03d", i), FileMode.REGULAR_FILE, empty);
            }
            return inserter.insert(tree);
        });

        assertFailedWithNothingLeft(
                build(url),
                413,
                "This repository holds more than 200 files and folders when "
                        + "checked out (Ferry's limit for one repository, ferry.repo.max-checkout-files). Launch a smaller "
                        + "repository, or ask the operator to raise the limit.",
                "many-files");
    }

    @Test
    void aTreeWithAGitFolderIsTheRepositorysFaultNotFerrys() throws Exception {
        String url = git.createRawRepo("dot-git-tree", inserter -> {
            ObjectId config = inserter.insert(
                    Constants.OBJ_BLOB,
                    "[core]\n\tfsmonitor = touch /tmp/ferry-owned\n".getBytes(StandardCharsets.UTF_8));
            TreeFormatter dotGit = new TreeFormatter();
            dotGit.append("config", FileMode.REGULAR_FILE, config);
            ObjectId readme = inserter.insert(Constants.OBJ_BLOB, "# hostile\n".getBytes(StandardCharsets.UTF_8));
            TreeFormatter tree = new TreeFormatter();
            tree.append(".git", FileMode.TREE, inserter.insert(dotGit));
            tree.append("README.md", FileMode.REGULAR_FILE, readme);
            return inserter.insert(tree);
        });

        EventStream.Result result = build(url);
        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(422);
        assertThat((String) failed.get("message"))
                .startsWith("The repository's commit holds a malformed tree that git "
                        + "itself would refuse to check out (")
                .contains("Fix the repository (git fsck names the problem)");
        assertThat(LocalLayout.children(workDir.resolve("envs")))
                .noneMatch(env -> env.getFileName().toString().contains("dot-git-tree"));
    }

    @Test
    void aBuildThatGrowsTheRepositoryPastTheLimitGetsNoSessionCopy() throws Exception {
        Parts.requireJupyter();
        String url = git.createRepo(
                "grows-in-postbuild",
                Map.of("postBuild", "#!/bin/sh\ndd if=/dev/zero of=grown.bin bs=1M count=60 2>&1\n"));
        java.util.List<Path> sessionsBefore = LocalLayout.children(workDir.resolve("sessions"));

        EventStream.Result result = build(url);
        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(413);
        assertThat(((String) failed.get("message")).strip())
                .isEqualTo("This repository's files add up to more than "
                        + "50 MiB after its build (Ferry's limit for one repository, ferry.repo.max-checkout-size), so no session "
                        + "can have its own copy. Write large files outside the repository's folder in postBuild, launch a smaller "
                        + "repository, or ask the operator to raise the limit.");
        assertThat(LocalLayout.children(workDir.resolve("sessions")))
                .as("the session's partial copy")
                .containsExactlyInAnyOrderElementsOf(sessionsBefore);
    }

    /** A build that pads {@code .git} (which the session's copy counts apart from the files) gets no copy either. */
    @Test
    void aBuildThatPadsTheGitFolderPastTheLimitGetsNoSessionCopy() throws Exception {
        Parts.requireJupyter();
        String url = git.createRepo(
                "pads-git-in-postbuild",
                Map.of("postBuild", "#!/bin/sh\ndd if=/dev/zero of=.git/pad bs=1M count=60 2>&1\n"));

        EventStream.Result result = build(url);
        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(413);
    }

    /**
     * The session's copy counts what the checkout counted: the files, not {@code .git} (bounded by the fetch limits).
     * 30 MiB of noise is a 30 MiB pack plus 30 MiB of files, under the 50 MiB limit only when .git is left out.
     */
    @Test
    void aRepositoryJustUnderTheLimitLaunchesAndItsGitFolderIsNotCounted() throws Exception {
        Parts.requireJupyter();
        String url = git.createRawRepo("noise-under-limit", inserter -> {
            byte[] noise = new byte[30 << 20];
            new java.util.Random(3).nextBytes(noise);
            TreeFormatter tree = new TreeFormatter();
            tree.append("noise.bin", FileMode.REGULAR_FILE, inserter.insert(Constants.OBJ_BLOB, noise));
            return inserter.insert(tree);
        });

        EventStream.Result result = build(url);
        assertThat(result.last().get("phase")).as(result.events().toString()).isEqualTo("ready");
    }

    /** {@code size} zero bytes. */
    private static final class Zeros extends InputStream {
        private long left;

        Zeros(long size) {
            left = size;
        }

        @Override
        public int read() {
            if (left == 0) {
                return -1;
            }
            left--;
            return 0;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (left == 0) {
                return -1;
            }
            int n = (int) Math.min(length, left);
            java.util.Arrays.fill(buffer, offset, offset + n, (byte) 0);
            left -= n;
            return n;
        }
    }
}
