package dev.ferry.buildpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** repo2docker's detection rules, on small repositories made in each test. */
class DetectorTest {

    @TempDir
    Path repo;

    private final Detector detector = new Detector();

    private void file(String name, String content) throws IOException {
        Path path = repo.resolve(name);
        Files.createDirectories(path.getParent());
        Files.writeString(path, content, StandardCharsets.UTF_8);
    }

    private BuildPlan detect() {
        return detector.detect(repo);
    }

    @Test
    void noEnvironmentFileIsTheDefaultPythonEnvironment() {
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.PYTHON);
        assertThat(plan.files()).isEmpty();
        assertThat(plan.configDir()).isEmpty();
        assertThat(plan.python()).isEmpty();
    }

    @Test
    void requirementsTxtIsPython() throws IOException {
        file("requirements.txt", "# plots\nnumpy==1.26\n\nmatplotlib\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.PYTHON);
        assertThat(plan.files()).containsExactly("requirements.txt");
        assertThat(plan.packages()).containsExactly("numpy==1.26", "matplotlib");
    }

    @Test
    void binderFolderIsTheOnlyPlaceLookedAt() throws IOException {
        file("environment.yml", "dependencies: [numpy]\n");
        file("requirements.txt", "pandas\n");
        file("binder/requirements.txt", "scipy\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.PYTHON);
        assertThat(plan.configDir()).isEqualTo("binder");
        assertThat(plan.files()).containsExactly("binder/requirements.txt");
        assertThat(plan.packages()).containsExactly("scipy");
    }

    @Test
    void dotBinderFolderWorksLikeBinder() throws IOException {
        file(".binder/environment.yml", "dependencies:\n  - python=3.10\n  - numpy\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.CONDA);
        assertThat(plan.configDir()).isEqualTo(".binder");
        assertThat(plan.python()).hasValue("3.10");
    }

    @Test
    void binderAndDotBinderTogetherAreAnError() throws IOException {
        file("binder/requirements.txt", "a\n");
        file(".binder/requirements.txt", "b\n");
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("both a binder/ and a .binder/ folder");
    }

    @Test
    void dockerfileWinsOverEverything() throws IOException {
        file("binder/Dockerfile", "FROM python:3.11\n");
        file("binder/environment.yml", "dependencies: [numpy]\n");
        file("binder/apt.txt", "curl\n");
        file("binder/postBuild", "echo hi\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.DOCKER);
        assertThat(plan.files()).containsExactly("binder/Dockerfile");
        assertThat(plan.aptPackages()).isEmpty();
        assertThat(plan.postBuild()).isEmpty();
        assertThat(plan.warnings()).anyMatch(w -> w.startsWith("binder/environment.yml is ignored"));
    }

    @Test
    void legacyBinderBaseDockerfileIsExplained() throws IOException {
        file("Dockerfile", "# old\nFROM andrewosh/binder-base\nRUN pip install x\n");
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("andrewosh/binder-base")
                .hasMessageContaining("no longer supported");
    }

    @Test
    void precedenceFollowsRepo2docker() throws IOException {
        file("requirements.txt", "a\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.PYTHON);
        file("Pipfile", "[packages]\nrequests = \"*\"\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.PIPFILE);
        file("environment.yml", "dependencies: [numpy]\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.CONDA);
        file("runtime.txt", "r-4.3-2023-10-01\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.R);
        file("default.nix", "{}\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.NIX);
        file("Project.toml", "[deps]\nPlots = \"91a5bcdd-55d7-5caf-9e0b-520d859cae80\"\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.JULIA);
        file("Dockerfile", "FROM scratch\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.DOCKER);
    }

    @Test
    void setupPyAndPyprojectAreRootOnlyAndIgnoredWithABinderFolder() throws IOException {
        file("setup.py", "from setuptools import setup\nsetup(name='x')\n");
        assertThat(detect().installPackage()).isTrue();
        assertThat(detect().files()).containsExactly("setup.py");
        file("binder/requirements.txt", "a\n");
        BuildPlan plan = detect();
        assertThat(plan.installPackage()).isFalse();
        assertThat(plan.files()).containsExactly("binder/requirements.txt");
        assertThat(plan.warnings())
                .contains(
                        "setup.py in the repository root is ignored because a binder/ folder exists (repo2docker's rule).");
    }

    @Test
    void pyprojectTomlIsInstalledAndMustBeValid() throws IOException {
        file("pyproject.toml", "[build-system]\nrequires = [\"hatchling\"]\n\n[project]\nname = \"demo\"\n");
        assertThat(detect().installPackage()).isTrue();
        file("pyproject.toml", "[project\nname = \n");
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageStartingWith("pyproject.toml is not valid TOML");
    }

    @Test
    void runtimeTxtSelectsPython() throws IOException {
        file("runtime.txt", "python-3.10\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.PYTHON);
        assertThat(plan.python()).hasValue("3.10");
        assertThat(plan.files()).contains("runtime.txt");
        file("runtime.txt", "python-3.9.7");
        assertThat(detect().python()).hasValue("3.9");
    }

    @ParameterizedTest
    @ValueSource(strings = {"python3.10", "python-three", "ruby-3.2", "python-3.10\nRUN echo pwned", "r-latest"})
    void unusableRuntimeTxtIsExplained(String content) throws IOException {
        file("runtime.txt", content);
        assertThatThrownBy(this::detect).isInstanceOf(BuildpackException.class).hasMessageContaining("runtime.txt");
    }

    @Test
    void rFromRuntimeTxtOrRootDescription() throws IOException {
        file("runtime.txt", "r-2023-10-01");
        file("install.R", "install.packages('ggplot2')\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.R);
        assertThat(plan.r()).hasValue("2023-10-01");
        assertThat(plan.files()).contains("install.R", "runtime.txt");
        Files.delete(repo.resolve("runtime.txt"));
        file("DESCRIPTION", "Package: demo\nVersion: 0.1\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.R);
        assertThat(detect().files()).contains("DESCRIPTION");
    }

    @Test
    void rootDescriptionIsIgnoredWithABinderFolder() throws IOException {
        file("DESCRIPTION", "Package: demo\n");
        file("binder/requirements.txt", "a\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.PYTHON);
        assertThat(plan.warnings()).anyMatch(w -> w.startsWith("DESCRIPTION in the repository root is ignored"));
    }

    @Test
    void juliaProjectReadsDepsAndCompat() throws IOException {
        file("Project.toml", "[deps]\nPlots = \"91a5bcdd-55d7-5caf-9e0b-520d859cae80\"\n\n[compat]\njulia = \"1.9\"\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.JULIA);
        assertThat(plan.packages()).containsExactly("Plots");
        assertThat(plan.julia()).hasValue("1.9");
    }

    @Test
    void malformedProjectTomlIsExplained() throws IOException {
        file("Project.toml", "[deps\n");
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageStartingWith("Project.toml is not valid TOML");
    }

    @Test
    void pipfileAndLockAreThePipfileBuildpack() throws IOException {
        file("Pipfile.lock", "{}");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.PIPFILE);
        file("Pipfile", "[packages]\nrequests = \"*\"\n\n[requires]\npython_version = \"3.11\"\n");
        BuildPlan plan = detect();
        assertThat(plan.packages()).containsExactly("requests");
        assertThat(plan.python()).hasValue("3.11");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "dependencies: [numpy\n",
                "- just\n- a list\n",
                "dependencies: numpy\n",
                "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                        + "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
                "dependencies:\n  - !!python/object/apply:os.system ['touch /tmp/pwned']\n"
            })
    void malformedOrHostileEnvironmentYmlIsExplained(String content) throws IOException {
        file("environment.yml", content);
        assertThatThrownBy(this::detect).isInstanceOf(BuildpackException.class).hasMessageContaining("environment.yml");
        assertThat(Path.of("/tmp/pwned")).doesNotExist();
    }

    @Test
    void nixAndComposableFiles() throws IOException {
        file("default.nix", "{ pkgs ? import <nixpkgs> {} }: pkgs.mkShell {}\n");
        file("postBuild", "#!/bin/bash\necho done\n");
        file("start", "#!/bin/bash\nexec \"$@\"\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.NIX);
        assertThat(plan.postBuild()).hasValue("postBuild");
        assertThat(plan.start()).hasValue("start");
    }

    @Test
    void aptTxtListsValidatedPackages() throws IOException {
        file("binder/apt.txt", "# tools\ngraphviz\n\nlibgdal-dev\npython3-numpy=1:1.24.2-1\n");
        assertThat(detect().aptPackages()).containsExactly("graphviz", "libgdal-dev", "python3-numpy=1:1.24.2-1");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "curl; rm -rf /",
                "$(reboot)",
                "`id`",
                "pkg && touch /tmp/x",
                "-o Dpkg::Options::=--force-all",
                "pkg\nRUN echo pwned",
                "some package",
                "'quoted'",
                "pkg\\",
                "UPPERCASE"
            })
    void aptTxtCannotInjectShellOrDockerfileInstructions(String line) throws IOException {
        file("apt.txt", "curl\n" + line + "\n");
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("apt.txt line")
                .hasMessageContaining("is not a Debian package name");
    }

    @Test
    void symbolicLinkOutOfTheCheckoutIsRefused() throws IOException {
        Files.createSymbolicLink(repo.resolve("requirements.txt"), Path.of("/etc/passwd"));
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("symbolic link to a place outside the repository");
    }

    @Test
    void binderFolderLinkedOutOfTheCheckoutIsRefused() throws IOException {
        Files.createSymbolicLink(repo.resolve("binder"), Path.of("/etc"));
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("outside the repository");
    }

    @Test
    void symbolicLinkInsideTheCheckoutIsFollowed() throws IOException {
        file("envs/requirements.txt", "six\n");
        Files.createSymbolicLink(repo.resolve("requirements.txt"), Path.of("envs/requirements.txt"));
        assertThat(detect().packages()).containsExactly("six");
    }

    @Test
    void hugeBinaryOrNonUtf8ConfigurationFilesAreExplained() throws IOException {
        file("requirements.txt", "x".repeat(2 * 1024 * 1024));
        assertThatThrownBy(this::detect).hasMessageContaining("configuration files may be at most");
        Files.write(repo.resolve("requirements.txt"), new byte[] {'a', 0, 'b'});
        assertThatThrownBy(this::detect).hasMessageContaining("is a binary file");
        Files.write(repo.resolve("requirements.txt"), new byte[] {'a', (byte) 0xff, (byte) 0xfe});
        assertThatThrownBy(this::detect).hasMessageContaining("is not UTF-8 text");
    }

    @Test
    void fileNamesWithSpacesQuotesAndNonAsciiDoNotDisturbDetection() throws IOException {
        file("notebooks/my \"best\" 'plot' ünïcødé.ipynb", "{}");
        file("requirements.txt", "six\n");
        assertThat(detect().buildpack()).isEqualTo(Buildpack.PYTHON);
    }

    @Test
    void sourceToImageWhenTheRepositoryBringsAssembleOrTheOperatorChoosesABuilder() throws IOException {
        file(".s2i/bin/assemble", "#!/bin/sh\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.S2I);
        assertThat(plan.s2iBuilder()).hasValue(DockerfileRenderer.DEFAULT_S2I_BUILDER);
        Files.delete(repo.resolve(".s2i/bin/assemble"));
        file("requirements.txt", "six\n");
        BuildPlan operator = new Detector(Optional.of("quay.io/example/builder:1")).detect(repo);
        assertThat(operator.buildpack()).isEqualTo(Buildpack.S2I);
        assertThat(operator.s2iBuilder()).hasValue("quay.io/example/builder:1");
    }

    // --- repo2docker's detection rules that Ferry read differently before (issue #20) ---

    @Test
    void environmentYamlCountsLikeEnvironmentYml() throws IOException {
        file("binder/environment.yaml", "dependencies:\n  - python=3.9\n  - numpy\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.CONDA);
        assertThat(plan.condaFile()).hasValue("binder/environment.yaml");
        assertThat(plan.files()).containsExactly("binder/environment.yaml");
        assertThat(plan.python()).hasValue("3.9");
        assertThat(plan.packages()).contains("numpy");
    }

    @Test
    void environmentYmlWinsOverEnvironmentYamlWithAWarning() throws IOException {
        file("environment.yml", "dependencies: [numpy]\n");
        file("environment.yaml", "dependencies: [scipy]\n");
        BuildPlan plan = detect();
        assertThat(plan.condaFile()).hasValue("environment.yml");
        assertThat(plan.packages()).containsExactly("numpy");
        assertThat(plan.warnings()).contains("environment.yaml is ignored: environment.yml is used. Keep one of them.");
    }

    @Test
    void runtimeTxtPython3IsTheDefaultPythonAndPython2Is27() throws IOException {
        file("runtime.txt", "python-3\n");
        BuildPlan plan = detect();
        assertThat(plan.buildpack()).isEqualTo(Buildpack.PYTHON);
        assertThat(plan.python()).isEmpty();
        assertThat(plan.files()).containsExactly("runtime.txt");
        file("runtime.txt", "python-2");
        assertThat(detect().python()).hasValue("2.7");
        file("runtime.txt", "python-2.7");
        assertThat(detect().python()).hasValue("2.7");
        assertThat(detect().legacyPython()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"python=2", "python==2", "python = 2"})
    void condaPython2MeansPython27(String dependency) throws IOException {
        file("environment.yml", "dependencies:\n  - " + dependency + "\n");
        assertThat(detect().python()).hasValue("2.7");
    }

    @ParameterizedTest
    @ValueSource(strings = {"python>=3.8", "python<3.12", "python~=3.8", "python", "python=3", "python 3.8"})
    void condaPythonBoundsAndBareMajorAreTheDefaultNotAPin(String dependency) throws IOException {
        file("environment.yml", "dependencies:\n  - " + dependency + "\n  - numpy\n");
        assertThat(detect().python()).as(dependency).isEmpty();
    }

    @Test
    void condaPinsKeepMajorMinorAndTheFirstPythonCounts() throws IOException {
        file("environment.yml", "dependencies:\n  - python==3.11.*\n  - python=3.8\n  - python-dateutil=2.8\n");
        assertThat(detect().python()).hasValue("3.11");
        file("environment.yml", "dependencies:\n  - python-dateutil=2.8\n  - python=3.9.7\n");
        assertThat(detect().python()).hasValue("3.9");
    }

    @Test
    void pipfileLockRequiresComesFirstThenThePipfileNotRuntimeTxt() throws IOException {
        file("runtime.txt", "python-3.8\n");
        file("Pipfile", "[packages]\nrequests = \"*\"\n\n[requires]\npython_version = \"3.9\"\n");
        BuildPlan pipfileOnly = detect();
        assertThat(pipfileOnly.python()).hasValue("3.9");
        assertThat(pipfileOnly.warnings())
                .anyMatch(w -> w.startsWith("runtime.txt asks for python-3.8, but with a Pipfile"));
        file("Pipfile.lock", "{\"_meta\": {\"requires\": {\"python_full_version\": \"3.10.4\"}}, \"default\": {}}");
        assertThat(detect().python()).hasValue("3.10");
        file("Pipfile.lock", "{\"_meta\": {\"requires\": {\"python_version\": \"2\"}}, \"default\": {}}");
        assertThat(detect().python()).hasValue("2.7");
        file("Pipfile.lock", "{\"_meta\": {\"requires\": {}}, \"default\": {}}");
        assertThat(detect().python())
                .as("an empty lock falls back to the Pipfile")
                .hasValue("3.9");
        file("Pipfile", "[packages]\nrequests = \"*\"\n");
        assertThat(detect().python()).as("nothing asked: the default").isEmpty();
    }

    @Test
    void malformedPipfileLockIsExplained() throws IOException {
        file("Pipfile.lock", "{ not json");
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageStartingWith("Pipfile.lock is not valid JSON")
                .hasMessageContaining("pipenv lock");
    }

    @Test
    void requirements3TxtIsForTheServerOnlyWithALegacyKernelPython() throws IOException {
        file("runtime.txt", "python-2.7\n");
        file("requirements.txt", "six\n");
        file("requirements3.txt", "nbgitpuller\n");
        BuildPlan legacy = detect();
        assertThat(legacy.serverRequirements()).hasValue("requirements3.txt");
        assertThat(legacy.files()).contains("requirements3.txt");
        assertThat(legacy.packages()).containsExactly("six");

        file("runtime.txt", "python-3.11\n");
        BuildPlan current = detect();
        assertThat(current.serverRequirements()).isEmpty();
        assertThat(current.files()).doesNotContain("requirements3.txt");
        assertThat(current.warnings()).anyMatch(w -> w.startsWith("requirements3.txt is ignored"));
    }

    @Test
    void requirements3TxtWithAPython2Pipfile() throws IOException {
        file("Pipfile", "[packages]\n\n[requires]\npython_version = \"2.7\"\n");
        file("requirements3.txt", "nbgitpuller\n");
        assertThat(detect().serverRequirements()).hasValue("requirements3.txt");
    }

    @Test
    void requirements3TxtIsIgnoredByConda() throws IOException {
        file("environment.yml", "dependencies:\n  - python=2.7\n");
        file("requirements3.txt", "nbgitpuller\n");
        BuildPlan plan = detect();
        assertThat(plan.serverRequirements()).isEmpty();
        assertThat(plan.warnings()).anyMatch(w -> w.startsWith("requirements3.txt is ignored"));
    }

    @Test
    void aToolOnlyPyprojectTomlDoesNotMakeTheRepositoryPipInstalled() throws IOException {
        file("pyproject.toml", "[tool.black]\nline-length = 100\n\n[tool.ruff]\nselect = [\"E\"]\n");
        BuildPlan tools = detect();
        assertThat(tools.installPackage()).isFalse();
        assertThat(tools.files()).isEmpty();
        file("pyproject.toml", "[project]\nname = \"demo\"\nversion = \"0.1\"\n");
        assertThat(detect().installPackage())
                .as("[project] without [build-system]")
                .isFalse();
        file(
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"
                        + "[project]\nname = \"demo\"\nversion = \"0.1\"\n");
        BuildPlan pkg = detect();
        assertThat(pkg.installPackage()).isTrue();
        assertThat(pkg.files()).containsExactly("pyproject.toml");
    }

    @Test
    void legacyJuliaRequireIsExplained() throws IOException {
        file("REQUIRE", "julia 0.6\nDataFrames\n");
        assertThatThrownBy(this::detect)
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("REQUIRE")
                .hasMessageContaining("Project.toml");
        file("Project.toml", "[deps]\n");
        assertThat(detect().buildpack())
                .as("a Project.toml beside it wins, as in repo2docker")
                .isEqualTo(Buildpack.JULIA);
    }
}
