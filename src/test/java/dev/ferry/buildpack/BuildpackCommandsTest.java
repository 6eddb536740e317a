package dev.ferry.buildpack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.testing.TestGitServer;

/** The jar's commands: detect, dockerfile, and prepare against a real git server. */
class BuildpackCommandsTest {

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {}

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = BuildpackCommands.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                env);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The prepare step's settings for the test's git server on loopback, then {@code more} names and values. */
    private static Map<String, String> loopbackEnv(String... more) {
        Map<String, String> env = new java.util.LinkedHashMap<>(
                Map.of("FERRY_REPO_ALLOWED_SCHEMES", "http", "FERRY_REPO_ALLOW_PRIVATE_ADDRESSES", "true"));
        for (int i = 0; i < more.length; i += 2) {
            env.put(more[i], more[i + 1]);
        }
        return env;
    }

    /** The build Job's prepare step for a commit of branch main, checking out into {@code out}. */
    static String[] prepareOnMain(String url, String commit, Path out) {
        return new String[] {
            "prepare", "--repo", url, "--commit", commit, "--ref", "refs/heads/main", "--out", out.toString()
        };
    }

    @Test
    void detectPrintsThePlanAsJson() throws Exception {
        Files.createDirectories(dir.resolve("binder"));
        Files.writeString(dir.resolve("binder/environment.yml"), "dependencies:\n  - python=3.10\n  - numpy\n");
        Files.writeString(dir.resolve("binder/apt.txt"), "graphviz\n");
        Run r = run(Map.of(), "detect", dir.toString());
        assertThat(r.code()).isZero();
        Map<String, Object> plan =
                JsonMapper.builder().build().readValue(r.out(), new TypeReference<Map<String, Object>>() {});
        assertThat(plan)
                .containsEntry("buildpack", "conda")
                .containsEntry("configDir", "binder")
                .containsEntry("python", "3.10")
                .containsEntry("aptPackages", java.util.List.of("graphviz"));
    }

    @Test
    void dockerfilePrintsTheRenderedDockerfileOrTheRepositorysOwn() throws Exception {
        Files.writeString(dir.resolve("requirements.txt"), "six\n");
        Run rendered = run(Map.of(), "dockerfile", dir.toString());
        assertThat(rendered.code()).isZero();
        assertThat(rendered.out())
                .contains("FROM docker.io/library/buildpack-deps:jammy")
                .contains("EXPOSE 8888");
        Files.writeString(dir.resolve("Dockerfile"), "FROM python:3.12\nRUN pip install six\n");
        assertThat(run(Map.of(), "dockerfile", dir.toString()).out())
                .isEqualTo("FROM python:3.12\nRUN pip install six\n");
    }

    @Test
    void unusableRepositoryExitsWithThreeAndASentence() throws Exception {
        Files.createDirectories(dir.resolve("binder"));
        Files.createDirectories(dir.resolve(".binder"));
        Run r = run(Map.of(), "detect", dir.toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("both a binder/ and a .binder/ folder");
        assertThat(run(Map.of(), "detect").code()).isEqualTo(2);
    }

    @Test
    void prepareFetchesTheCommitAndWritesTheBuildContext() throws Exception {
        try (TestGitServer git = new TestGitServer()) {
            String url = git.createRepo(
                    "prep", Map.of("requirements.txt", "six\n", "binder/postBuild", "#!/bin/sh\necho ok\n"));
            String commit = git.commit("prep", "main", Map.of("notes.md", "# notes\n"), "second");
            Path out = dir.resolve("context");
            Run r = run(
                    loopbackEnv(
                            "FERRY_BUILDPACK_BASE_IMAGE", "localhost/base:7", "FERRY_BUILDPACK_PYTHON_VERSION", "3.12"),
                    prepareOnMain(url, commit, out));
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(out.resolve("notes.md")).exists();
            assertThat(Files.readString(out.resolve(".ferry/Dockerfile")))
                    .contains("./binder/postBuild")
                    .contains("dev.ferry.commit=\"" + commit + "\"")
                    // the operator's ferry.buildpack.* settings, which the build Job passes as FERRY_BUILDPACK_*
                    .contains("FROM localhost/base:7\n")
                    .contains("python=3.12 ");
            // BuildKit's ignore file beside the Dockerfile, from the binder folder (none here: only Ferry's comment)
            assertThat(Files.readString(out.resolve(".ferry/Dockerfile.dockerignore")))
                    .startsWith("# Written by Ferry");
            assertThat(Files.readString(out.resolve(".ferry/plan.json"))).contains("\"buildpack\" : \"python\"");
        }
    }

    /** The Kubernetes build Job's prepare step checks out with the same bound as the local platform. */
    @Test
    void prepareRefusesARepositoryLargerThanTheCheckoutLimitAndLeavesOnlyGit() throws Exception {
        try (TestGitServer git = new TestGitServer()) {
            String url = git.createRepo("prep-big", Map.of("big.txt", "0".repeat(300_000), "README.md", "# big\n"));
            String commit = git.commit("prep-big", "main", Map.of("notes.md", "# notes\n"), "second");
            Path out = dir.resolve("context-big");
            Run r = run(
                    loopbackEnv("FERRY_REPO_MAX_CHECKOUT_BYTES", String.valueOf(200 * 1024)),
                    prepareOnMain(url, commit, out));
            assertThat(r.code()).as(r.out()).isEqualTo(3);
            assertThat(r.err())
                    .contains("This repository's files add up to more than 200 KiB when checked out "
                            + "(Ferry's limit for one repository, ferry.repo.max-checkout-size).");
            try (var left = Files.list(out)) {
                assertThat(left.map(p -> p.getFileName().toString())).containsExactly(".git");
            }
        }
    }

    @Test
    void prepareRefusesPrivateAddressesByDefault() throws Exception {
        Run r = run(
                Map.of("FERRY_REPO_ALLOWED_SCHEMES", "http"),
                "prepare",
                "--repo",
                "http://127.0.0.1:9/x.git",
                "--commit",
                "0123456789abcdef0123456789abcdef01234567",
                "--out",
                dir.resolve("c").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("loopback address");
    }
}
