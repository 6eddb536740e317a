package dev.ferry.buildpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ferry's detect plan against repo2docker's, case by case, for the test repositories of repo2docker's {@code tests/}
 * folder (conda, dockerfile, julia, nix, pipfile, r, venv, base). Each fixture is Ferry's own: it has the files that
 * decide the case (names, folders, the versions asked for), not repo2docker's contents. The expected plan is what
 * repo2docker's detection (app.py's buildpack order, each buildpack's detect() and python_version) makes of those
 * files. docs/environments.md carries the count and the cases that still differ, with why.
 */
class Repo2dockerTestReposTest {

    /** A repo2docker test repository: its deciding files and repo2docker's plan ({@code python} null = default). */
    record Case(String name, Map<String, String> files, String buildpack, String configDir, String python) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String DEFAULT = null;

    private static Map<String, String> files(String... nameThenContent) {
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < nameThenContent.length; i += 2) {
            files.put(nameThenContent[i], nameThenContent[i + 1]);
        }
        return files;
    }

    private static final String POST_BUILD = "#!/bin/bash\necho done\n";
    private static final String START = "#!/bin/bash\nexec \"$@\"\n";
    private static final String NIX =
            "{ pkgs ? import <nixpkgs> {} }: pkgs.mkShell { buildInputs = [ pkgs.python3 ]; }\n";
    private static final String LOCK_36 =
            "{\"_meta\": {\"requires\": {\"python_version\": \"3.6\"}}, \"default\": {}, \"develop\": {}}";

    /** The cases where Ferry's plan is repo2docker's. */
    static Stream<Case> same() {
        return Stream.of(
                new Case("base/node", files(), "python", "", DEFAULT),
                new Case(
                        "conda/binder-dir",
                        files("binder/environment.yml", "dependencies:\n  - numpy\n", "Dockerfile", "FROM scratch\n"),
                        "conda",
                        "binder",
                        DEFAULT),
                new Case(
                        "conda/downgrade",
                        files("environment.yml", "dependencies:\n  - python=3.9\n"),
                        "conda",
                        "",
                        "3.9"),
                new Case("conda/empty-environment-file", files("environment.yml", ""), "conda", "", DEFAULT),
                new Case(
                        "conda/py-r-postbuild-file",
                        files(
                                "environment.yml",
                                "dependencies:\n  - python=3.10\n  - r-base\n",
                                "postBuild",
                                POST_BUILD),
                        "conda",
                        "",
                        "3.10"),
                new Case(
                        "conda/py2",
                        files("environment.yml", "dependencies:\n  - python=2\n  - numpy\n"),
                        "conda",
                        "",
                        "2.7"),
                new Case(
                        "conda/py310-requirements-file",
                        files("environment.yml", "dependencies:\n  - python=3.10\n", "requirements.txt", "tornado\n"),
                        "conda",
                        "",
                        "3.10"),
                new Case(
                        "conda/py311-extra-ignore-file-merge",
                        files("environment.yml", "dependencies:\n  - python=3.11\n"),
                        "conda",
                        "",
                        "3.11"),
                new Case(
                        "conda/py311-extra-ignore-file-ours",
                        files(
                                "environment.yml",
                                "dependencies:\n  - python=3.11\n",
                                ".dockerignore",
                                "from-dockerignore\n"),
                        "conda",
                        "",
                        "3.11"),
                new Case(
                        "conda/py311-extra-ignore-file-theirs",
                        files("environment.yml", "dependencies:\n  - python=3.11\n"),
                        "conda",
                        "",
                        "3.11"),
                new Case(
                        "conda/py311-extra-ignore-file-theirs-without-file",
                        files("environment.yml", "dependencies:\n  - python=3.11\n"),
                        "conda",
                        "",
                        "3.11"),
                new Case(
                        "conda/py35-binder-dir",
                        files(
                                ".binder/environment.yml",
                                "dependencies:\n  - python=3.5\n",
                                "environment.yml",
                                "dependencies:\n  - python=3.9\n",
                                "Dockerfile",
                                "FROM scratch\n"),
                        "conda",
                        ".binder",
                        "3.5"),
                new Case(
                        "conda/py36-postBuild",
                        files("environment.yml", "dependencies:\n  - python=3.6\n", "postBuild", POST_BUILD),
                        "conda",
                        "",
                        "3.6"),
                new Case(
                        "conda/r-unspecified",
                        files("environment.yml", "dependencies:\n  - r-base\n"),
                        "conda",
                        "",
                        DEFAULT),
                new Case(
                        "conda/r3.6-target-repo-dir-flag",
                        files("environment.yml", "dependencies:\n  - r-base=3.6\n"),
                        "conda",
                        "",
                        DEFAULT),
                new Case("conda/simple", files("environment.yml", "dependencies:\n  - numpy\n"), "conda", "", DEFAULT),
                new Case(
                        "conda/simple-py2",
                        files("environment.yml", "dependencies:\n  - python=2.7\n"),
                        "conda",
                        "",
                        "2.7"),
                new Case(
                        "dockerfile/binder-dir",
                        files("binder/Dockerfile", "FROM scratch\n", "Dockerfile", "FROM busybox\n"),
                        "docker",
                        "binder",
                        DEFAULT),
                new Case("dockerfile/editable", files("Dockerfile", "FROM scratch\n"), "docker", "", DEFAULT),
                new Case(
                        "dockerfile/jupyter-stack",
                        files("Dockerfile", "FROM quay.io/jupyter/base-notebook\n"),
                        "docker",
                        "",
                        DEFAULT),
                new Case("dockerfile/simple", files("Dockerfile", "FROM scratch\n"), "docker", "", DEFAULT),
                new Case("julia/project", files("Project.toml", "[deps]\n"), "julia", "", DEFAULT),
                new Case(
                        "julia/project-binder-dir",
                        files("binder/Project.toml", "[deps]\n", "Project.toml", "[deps\n"),
                        "julia",
                        "binder",
                        DEFAULT),
                new Case(
                        "julia/project-1.0.2-binder-dir",
                        files("binder/Project.toml", "[compat]\njulia = \"=1.0.2\"\n"),
                        "julia",
                        "binder",
                        DEFAULT),
                new Case(
                        "julia/julia_version-1.0.2",
                        files("Project.toml", "[compat]\njulia = \"=1.0.2\"\n"),
                        "julia",
                        "",
                        DEFAULT),
                new Case("nix/binder-dir", files("binder/default.nix", NIX), "nix", "binder", DEFAULT),
                new Case(
                        "nix/ignore-outside",
                        files("binder/default.nix", NIX, "default.nix", "broken(\n", "start", START),
                        "nix",
                        "binder",
                        DEFAULT),
                new Case("nix/simple", files("default.nix", NIX), "nix", "", DEFAULT),
                new Case("nix/start", files("default.nix", NIX, "start", START), "nix", "", DEFAULT),
                new Case("nix/test-building", files("default.nix", NIX), "nix", "", DEFAULT),
                new Case(
                        "pipfile/binder-folder", files("binder/Pipfile", "[packages]\n"), "pipfile", "binder", DEFAULT),
                new Case(
                        "pipfile/binder-folder-lock",
                        files(
                                "binder/Pipfile",
                                "[packages]\n",
                                "binder/Pipfile.lock",
                                "{\"_meta\": {\"requires\": {}}}"),
                        "pipfile",
                        "binder",
                        DEFAULT),
                new Case(
                        "pipfile/environment-yml",
                        files("environment.yml", "dependencies:\n  - numpy\n", "Pipfile", "[packages]\n"),
                        "conda",
                        "",
                        DEFAULT),
                new Case(
                        "pipfile/pipfile-jupyter",
                        files(
                                "Pipfile",
                                "[packages]\nnotebook = \"*\"\n",
                                "Pipfile.lock",
                                "{\"_meta\": {\"requires\": {\"python_version\": \"3.11\"}}}"),
                        "pipfile",
                        "",
                        "3.11"),
                new Case(
                        "pipfile/pipfile-lock",
                        files("Pipfile", "[packages]\n", "Pipfile.lock", "{\"_meta\": {}}"),
                        "pipfile",
                        "",
                        DEFAULT),
                new Case(
                        "pipfile/py2-with-server-and-kernel-req",
                        files(
                                "Pipfile",
                                "[requires]\npython_version = \"2.7\"\n",
                                "Pipfile.lock",
                                "{\"_meta\": {\"requires\": {\"python_version\": \"2.7\"}}}",
                                "requirements3.txt",
                                "nbgitpuller\n"),
                        "pipfile",
                        "",
                        "2.7"),
                new Case(
                        "pipfile/py36",
                        files("Pipfile", "[requires]\npython_version = \"3.6\"\n", "Pipfile.lock", LOCK_36),
                        "pipfile",
                        "",
                        "3.6"),
                new Case(
                        "pipfile/requirements-txt",
                        files("Pipfile", "[packages]\n", "requirements.txt", "x\n"),
                        "pipfile",
                        "",
                        DEFAULT),
                new Case(
                        "pipfile/setup-py-explicit",
                        files(
                                "Pipfile",
                                "[packages]\nmypkg = {path = \".\", editable = true}\n",
                                "setup.py",
                                "from setuptools import setup\nsetup()\n"),
                        "pipfile",
                        "",
                        DEFAULT),
                new Case(
                        "pipfile/setup-py-explicit-in-binder-dir",
                        files(
                                ".binder/Pipfile",
                                "[packages]\nmypkg = {path = \"..\", editable = true}\n",
                                "setup.py",
                                "from setuptools import setup\nsetup()\n"),
                        "pipfile",
                        ".binder",
                        DEFAULT),
                new Case(
                        "pipfile/setup-py-implicit",
                        files("Pipfile", "[packages]\n", "setup.py", "from setuptools import setup\nsetup()\n"),
                        "pipfile",
                        "",
                        DEFAULT),
                new Case(
                        "r/r-rspm-apt-file",
                        files("runtime.txt", "r-4.1-2022-01-01\n", "apt.txt", "libglpk-dev\n"),
                        "r",
                        "",
                        DEFAULT),
                new Case(
                        "r/r-rspm-description-file",
                        files("DESCRIPTION", "Package: rspm\nVersion: 0.1\n"),
                        "r",
                        "",
                        DEFAULT),
                new Case("r/r3.6-rspm", files("runtime.txt", "r-3.6-2021-05-01\n"), "r", "", DEFAULT),
                new Case(
                        "r/r4.0-rspm",
                        files("runtime.txt", "r-4.0-2021-07-07\n", "install.R", "install.packages('x')\n"),
                        "r",
                        "",
                        DEFAULT),
                new Case(
                        "r/r4.3.2-rspm",
                        files("runtime.txt", "r-4.3.2-2024-01-10\n", "install.R", "1\n"),
                        "r",
                        "",
                        DEFAULT),
                new Case("r/r4.4-rspm", files("runtime.txt", "r-4.4-2024-06-01\n"), "r", "", DEFAULT),
                new Case("r/simple", files("runtime.txt", "r-2018-02-05\n", "install.R", "1\n"), "r", "", DEFAULT),
                new Case("venv/apt-packages", files("apt.txt", "gfortran\nlibbz2-dev\n"), "python", "", DEFAULT),
                new Case(
                        "venv/binder-dir",
                        files(
                                "binder/postBuild",
                                POST_BUILD,
                                "environment.yml",
                                "dependencies: [x]\n",
                                "apt.txt",
                                "curl\n",
                                "postBuild",
                                "exit 1\n"),
                        "python",
                        "binder",
                        DEFAULT),
                new Case("venv/default", files(), "python", "", DEFAULT),
                new Case(
                        "venv/newline-conversion",
                        files("postBuild", "#!/bin/bash\r\necho done\r\n"),
                        "python",
                        "",
                        DEFAULT),
                new Case("venv/numpy", files("requirements.txt", "numpy\n"), "python", "", DEFAULT),
                new Case(
                        "venv/postBuild",
                        files("requirements.txt", "ipywidgets\n", "postBuild", POST_BUILD),
                        "python",
                        "",
                        DEFAULT),
                new Case(
                        "venv/py2",
                        files("runtime.txt", "python-2.7\n", "requirements.txt", "numpy\n"),
                        "python",
                        "",
                        "2.7"),
                new Case(
                        "venv/py2-with-kernel-requirements",
                        files("runtime.txt", "python-2.7\n", "requirements.txt", "ipykernel\n"),
                        "python",
                        "",
                        "2.7"),
                new Case("venv/py3", files("runtime.txt", "python-3\n"), "python", "", DEFAULT),
                new Case("venv/py35", files("runtime.txt", "python-3.5\n"), "python", "", "3.5"),
                new Case(
                        "venv/start/postBuild",
                        files("requirements.txt", "x\n", "postBuild", POST_BUILD, "start", START),
                        "python",
                        "",
                        DEFAULT),
                new Case("venv/start/start-script", files("start", START), "python", "", DEFAULT),
                new Case("venv/usr-bin", files(), "python", "", DEFAULT));
    }

    /** The cases where Ferry's plan is not repo2docker's, on purpose; what Ferry does instead is asserted below. */
    static final List<String> DIFFERENT = List.of("julia/require", "julia/require-1-requirements-file");

    @TempDir
    Path repo;

    private BuildPlan detect(Map<String, String> files) throws IOException {
        Path dir = Files.createTempDirectory(repo, "case");
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path path = dir.resolve(f.getKey());
            Files.createDirectories(path.getParent());
            Files.writeString(path, f.getValue());
        }
        return new Detector().detect(dir);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("same")
    void ferrysPlanIsRepo2dockers(Case c) throws IOException {
        BuildPlan plan = detect(c.files());
        assertThat(plan.buildpack()).as(c.name() + " buildpack").hasToString(c.buildpack());
        assertThat(plan.configDir()).as(c.name() + " folder").isEqualTo(c.configDir());
        assertThat(plan.python().orElse(null))
                .as(c.name() + " Python (null: the default)")
                .isEqualTo(c.python());
    }

    @Test
    void theComposableFilesAndServerRequirementsOfTheseCasesAreRepo2dockers() throws IOException {
        BuildPlan nixOutside = detect(files("binder/default.nix", NIX, "start", START));
        assertThat(nixOutside.start())
                .as("a root start beside binder/ is ignored")
                .isEmpty();
        BuildPlan py2 = detect(files("Pipfile", "[requires]\npython_version = \"2.7\"\n", "requirements3.txt", "x\n"));
        assertThat(py2.serverRequirements()).hasValue("requirements3.txt");
    }

    @Test
    void theLegacyBinderDockerfileIsRefusedByBoth() throws IOException {
        // dockerfile/legacy: repo2docker raises "The legacy buildpack has been removed."; Ferry explains the same
        assertThatThrownBy(() -> detect(files("Dockerfile", "FROM andrewosh/binder-base\n")))
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("no longer supported");
    }

    @Test
    void juliaRequireRepositoriesAreRefusedWithASentenceWhereRepo2dockerBuildsLegacyJulia() throws IOException {
        for (String name : DIFFERENT) {
            Path dir = repo.resolve(name.replace('/', '-'));
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("REQUIRE"), "julia 1.0\nDataFrames\n");
            if (name.endsWith("requirements-file")) {
                Files.writeString(dir.resolve("requirements.txt"), "numpy\n");
            }
            assertThatThrownBy(() -> new Detector().detect(dir))
                    .as(name)
                    .isInstanceOf(BuildpackException.class)
                    .hasMessageContaining("REQUIRE")
                    .hasMessageContaining("Project.toml");
        }
    }

    @Test
    void theCountInTheDocsIsTheCountHere() throws IOException {
        long matching = same().count() + 1; // and dockerfile/legacy, refused by both
        String docs = Files.readString(Path.of("docs", "environments.md"));
        assertThat(docs).contains("**" + matching + " of " + (matching + DIFFERENT.size()) + "**");
    }
}
