package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.ferry.FerryApplication;
import dev.ferry.testing.EventStream;
import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TestGitServer;

/**
 * The disk filling up during a build: Ferry's work dir is a 64 MiB tmpfs, and a repository's postBuild writes until
 * the disk is full. The build fails with a sentence that says the server ran out of space (not "your postBuild
 * failed"), what it wrote is removed so the space comes back, and the next launch of another repository works.
 * Needs {@code mount -t tmpfs}, i.e. root or CAP_SYS_ADMIN; skipped (saying so) where the test cannot mount, CI included.
 */
class LocalDiskFullTest {

    private static TestGitServer git;
    private static Path mountPoint;

    @BeforeAll
    static void mountTinyDisk() throws Exception {
        Parts.requireJupyter();
        mountPoint = Files.createTempDirectory("ferry-disk-full");
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mountPoint.toString())
                .redirectErrorStream(true)
                .start();
        boolean mounted = mount.waitFor(20, TimeUnit.SECONDS) && mount.exitValue() == 0;
        if (!mounted) {
            Files.deleteIfExists(mountPoint);
            mountPoint = null;
        }
        Assumptions.assumeTrue(
                mounted,
                "skipped: mounting a tmpfs needs root or CAP_SYS_ADMIN, which this machine "
                        + "does not give the tests");
        git = new TestGitServer();
    }

    @AfterAll
    static void unmount() throws Exception {
        if (git != null) {
            git.close();
        }
        if (mountPoint != null) {
            ProcessTree.stopAll(ProcessTree.inside(mountPoint), 1000);
            new ProcessBuilder("umount", mountPoint.toString()).start().waitFor(20, TimeUnit.SECONDS);
            Files.deleteIfExists(mountPoint);
        }
    }

    /** Ferry on the local platform, its work dir on the small disk, fetching from the test's git server. */
    private static ConfigurableApplicationContext startFerry(Path workDir, int port) {
        return new SpringApplicationBuilder(FerryApplication.class).run(FerryJvm.localSettings(workDir, port));
    }

    /** The launch of {@code repo} on the Ferry at {@code port}, asserted to fail as out of disk space (507). */
    private static EventStream.Result readOutOfSpace(int port, String repo) throws Exception {
        EventStream.Result result = EventStream.read(buildUrl(port, repo));
        assertThat(result.last().get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat(result.last().get("status_code")).isEqualTo(507);
        return result;
    }

    private static String buildUrl(int port, String repo) {
        return "http://127.0.0.1:" + port + "/build/git/" + URLEncoder.encode(repo, StandardCharsets.UTF_8) + "/main";
    }

    @Test
    void diskFillingUpDuringTheFetchSaysSoAndGivesTheSpaceBack() throws Exception {
        Path small = mountPoint.resolve("small");
        Files.createDirectories(small);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", small.toString())
                .redirectErrorStream(true)
                .start();
        assertThat(mount.waitFor(20, TimeUnit.SECONDS) && mount.exitValue() == 0)
                .as("a second tmpfs")
                .isTrue();
        try {
            byte[] noise = new byte[12 << 20]; // does not compress: the pack alone is larger than the disk
            new java.util.Random(7).nextBytes(noise);
            String big = git.createRepo(
                    "too-big-to-fetch",
                    Map.of("data.txt", java.util.Base64.getMimeEncoder().encodeToString(noise)));
            Path workDir = small.resolve("work");
            int port = Ports.free();
            ConfigurableApplicationContext ferry = startFerry(workDir, port);
            try {
                Map<String, Object> failed = readOutOfSpace(port, big).last();
                assertThat((String) failed.get("message"))
                        .startsWith("The Ferry server ran out of disk space while fetching");
                assertThat(Files.getFileStore(small).getUsableSpace())
                        .as("space given back")
                        .isGreaterThan(6L << 20);
            } finally {
                ferry.close();
            }
        } finally {
            new ProcessBuilder("umount", small.toString()).start().waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void diskFillingUpDuringABuildFailsItWithASentenceAndGivesTheSpaceBack() throws Exception {
        Path workDir = mountPoint.resolve("work");
        FileStore disk = Files.getFileStore(mountPoint);
        String filler = git.createRepo(
                "fills-the-disk",
                Map.of("postBuild", "#!/bin/sh\necho writing 100 MB\ndd if=/dev/zero of=fill bs=1M count=100\n"));
        String small = git.createRepo("small-after-full", Map.of("README.md", "# small\n"));
        int port = Ports.free();
        ConfigurableApplicationContext ferry = startFerry(workDir, port);
        try {
            EventStream.Result full = readOutOfSpace(port, filler);
            Map<String, Object> failed = full.last();
            assertThat(failed.get("message")).isEqualTo(LocalEnvBuilder.DISK_FULL + "\n");
            assertThat(full.events())
                    .as("dd's own words are in the log")
                    .anySatisfy(e -> assertThat((String) e.get("message")).contains("No space left on device"));
            assertThat(LocalLayout.children(workDir.resolve("envs")))
                    .as("the half-built environment")
                    .noneMatch(env -> env.getFileName().toString().contains("fills-the-disk"));
            assertThat(disk.getUsableSpace()).as("space given back").isGreaterThan(32L << 20);

            Map<String, Object> ready = EventStream.read(buildUrl(port, small)).last();
            assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        } finally {
            ferry.close();
        }
        assertThat(ProcessTree.inside(workDir)).isEmpty();
    }
}
