package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.Parts;

/**
 * Each buildpack and composable file on the local platform, with real environments and real kernels: what the host
 * can run is built and imported from a kernel; what it cannot ends with the sentence that says what to install or
 * to use the kubernetes platform.
 */
class LocalBuildpacksTest extends LocalPlatformTestSupport {

    @AfterEach
    void stop() {
        stopAllSessions();
    }

    @Test
    void requirementsInTheBinderFolderAreImportableFromTheKernel() throws Exception {
        // ferrytestpkg exists only in this repository: importing it proves the kernel runs in the environment
        Map<String, Object> ready = ready(
                "bp-requirements",
                files(
                        "binder/requirements.txt", "jinja2\n./pkgs/ferrytestpkg\n",
                        "requirements.txt", "this-root-file-is-ignored==0\n",
                        "pkgs/ferrytestpkg/setup.py",
                                "from setuptools import setup\nsetup(name='ferrytestpkg', version='1.0', py_modules=['ferrytestpkg'])\n",
                        "pkgs/ferrytestpkg/ferrytestpkg.py", "ANSWER = 42\n"));
        assertThat(run(
                        ready,
                        null,
                        "import jinja2, ferrytestpkg, sys; print(ferrytestpkg.ANSWER, 'venv' in sys.prefix)"))
                .isEqualTo("42 True\n");
    }

    @Test
    void setupPyInstallsTheRepositoryItself() throws Exception {
        Map<String, Object> ready = ready(
                "bp-setup-py",
                files(
                        "setup.py",
                        "from setuptools import setup, find_packages\nsetup(name='mypkg', version='0.1', "
                                + "packages=find_packages('src'), package_dir={'': 'src'})\n",
                        "src/mypkg/__init__.py",
                        "VALUE = 6 * 7\n"));
        assertThat(run(ready, null, "import mypkg; print(mypkg.VALUE)")).isEqualTo("42\n");
    }

    @Test
    void runtimeTxtPicksAHostPythonOrSaysItHasNone() throws Exception {
        EventStream.Result present = result("bp-runtime-present", files("runtime.txt", "python-3.11\n"));
        assertThat(present.last().get("phase")).as(log(present)).isEqualTo("ready");
        assertThat(log(present)).contains("Using Python 3.11 as runtime.txt asks");

        EventStream.Result absent = result("bp-runtime-absent", files("runtime.txt", "python-3.4\n"));
        assertThat(absent.last().get("phase")).as(log(absent)).isEqualTo("ready");
        assertThat(log(absent)).contains("the repository asks for Python 3.4, which this Ferry server does not have");
    }

    @Test
    void aptTxtPackagesMissingOnTheHostAreAWarning() throws Exception {
        EventStream.Result result = result("bp-apt", files("apt.txt", "git\nferry-no-such-package\n"));
        assertThat(result.last().get("phase")).isEqualTo("ready");
        assertThat(log(result))
                .contains("Warning: apt.txt asks for ferry-no-such-package, not installed on this Ferry server")
                .doesNotContain("asks for git,");
    }

    @Test
    void startWrapsTheServer() throws Exception {
        Map<String, Object> ready =
                ready("bp-start", files("binder/start", "#!/bin/bash\nexport FROM_START=yes\nexec \"$@\"\n"));
        assertThat(run(ready, null, "import os; print(os.environ.get('FROM_START'))"))
                .isEqualTo("yes\n");
    }

    @Test
    void pipfileLockIsInstalledWithPipenv() throws Exception {
        Parts.requirePipenv();
        String jinja = new String(new ProcessBuilder(
                                Parts.SYSTEM_PYTHON.toString(), "-c", "import jinja2; print(jinja2.__version__)")
                        .start()
                        .getInputStream()
                        .readAllBytes())
                .strip();
        Map<String, Object> ready = ready(
                "bp-pipfile",
                files(
                        "Pipfile", "[packages]\njinja2 = \"==" + jinja + "\"\n",
                        "Pipfile.lock",
                                "{\"_meta\": {\"hash\": {\"sha256\": \"x\"}, \"pipfile-spec\": 6, \"requires\": {}, \"sources\": "
                                        + "[{\"name\": \"pypi\", \"url\": \"https://pypi.org/simple\", \"verify_ssl\": true}]}, "
                                        + "\"default\": {\"jinja2\": {\"version\": \"==" + jinja
                                        + "\"}}, \"develop\": {}}"));
        assertThat(run(ready, null, "import jinja2; print(jinja2.__version__)")).isEqualTo(jinja + "\n");
    }

    @Test
    void rRepositoryGetsAnRKernelAndRunsInstallR() throws Exception {
        Parts.requireR();
        Map<String, Object> ready = ready(
                "bp-r",
                files(
                        "runtime.txt",
                        "r-2023-10-01\n",
                        "install.R",
                        "writeLines('installed by install.R', 'install-marker.txt')\n"));
        assertThat(run(ready, "ir", "cat(6*7, readLines('install-marker.txt'), sep = '\\n')"))
                .isEqualTo("42\ninstalled by install.R\n");
    }

    @Test
    void whatTheHostCannotRunFailsWithASentenceNamingTheWayOut() throws Exception {
        Map<String, String> sentences = Map.of(
                "bp-docker",
                        "which the local platform cannot run: it runs notebooks as processes, not containers. Ferry's kubernetes platform builds it as an image.",
                "bp-nix",
                        "the local platform does not run Nix environments. Ferry's kubernetes platform builds it as an image.",
                "bp-s2i", "source-to-image builder, which the local platform cannot run.");
        Map<String, Map<String, String>> repos = Map.of(
                "bp-docker", files("Dockerfile", "FROM python:3.11\n"),
                "bp-nix", files("default.nix", "{}\n"),
                "bp-s2i", files(".s2i/bin/assemble", "#!/bin/sh\n"));
        for (var entry : repos.entrySet()) {
            Map<String, Object> failed =
                    result(entry.getKey(), entry.getValue()).last();
            assertThat(failed.get("phase")).as(entry.getKey()).isEqualTo("failed");
            assertThat((String) failed.get("message")).as(entry.getKey()).contains(sentences.get(entry.getKey()));
        }
    }

    @Test
    void condaAndJuliaNeedTheirToolsOnTheHost() throws Exception {
        boolean hasConda = dev.ferry.testing.Parts.ci()
                ? false
                : HostTools.findFirst("micromamba", "mamba", "conda").isPresent();
        if (!hasConda) {
            Map<String, Object> failed = result("bp-conda", files("environment.yml", "dependencies:\n  - numpy\n"))
                    .last();
            assertThat((String) failed.get("message"))
                    .contains("which needs conda. Install micromamba on the Ferry server");
        }
        if (HostTools.find("julia").isEmpty()) {
            Map<String, Object> failed =
                    result("bp-julia", files("Project.toml", "[deps]\n")).last();
            assertThat((String) failed.get("message")).contains("needs Julia").contains("use the kubernetes platform");
        }
    }

    @Test
    void hostileEnvironmentFilesFailTheBuildCleanly() throws Exception {
        Map<String, Object> failed = result("bp-hostile-apt", files("apt.txt", "curl; touch /tmp/ferry-pwned\n"))
                .last();
        assertThat(failed.get("status_code")).isEqualTo(422);
        assertThat((String) failed.get("message")).contains("apt.txt line 1 is not a Debian package name");
        assertThat(java.nio.file.Path.of("/tmp/ferry-pwned")).doesNotExist();
        assertNothingLeftBehind();
    }
}
