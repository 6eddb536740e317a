package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.Parts;

/**
 * Repositories that work on mybinder.org, launched for real on the local platform (real git server, real build, real
 * Jupyter server and kernel): each fixture carries a {@code verify} script, in the manner of repo2docker's test
 * repositories, which the test runs inside the session and which checks what a user's code would see. Only cases
 * that need no download are here: this machine reaches neither PyPI nor CRAN, so packages come from the host.
 */
class MybinderHabitsLocalTest extends LocalPlatformTestSupport {

    /** What a notebook written for mybinder.org relies on, checked from inside the session. */
    private static final String VERIFY = """
            #!/bin/bash
            fail() { echo "FAIL: $*"; exit 1; }
            [ -n "$REPO_DIR" ] && [ "$REPO_DIR" = "$HOME" ] || fail "REPO_DIR=$REPO_DIR HOME=$HOME"
            [ "$(pwd)" = "$REPO_DIR" ] || fail "the working directory is $(pwd), not REPO_DIR"
            case ":$PATH:" in *":$HOME/.local/bin:"*) ;; *) fail "~/.local/bin is not on the PATH: $PATH";; esac
            [ "$(ferry-hello)" = "hello from postBuild" ] || fail "postBuild's ~/.local/bin/ferry-hello is not found by name"
            [ "$FROM_START" = "yes" ] || fail "start did not run before the server"
            [ -f "$REPO_DIR/postbuild-ran" ] || fail "postBuild did not run"
            case "$(cat "$REPO_DIR/postbuild-repo-dir")" in */repo) ;; *) fail "postBuild saw REPO_DIR=$(cat "$REPO_DIR/postbuild-repo-dir")";; esac
            [ "$(cat "$REPO_DIR/start-saw-postbuild")" = "yes" ] || fail "start ran before postBuild"
            python -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' || fail "not the Python of runtime.txt"
            python -c 'import jinja2' || fail "binder/requirements.txt was not installed"
            echo "verify: ok"
            """;

    @AfterEach
    void stop() {
        stopAllSessions();
    }

    /** Runs the repository's verify script inside the session, from a kernel, as a notebook cell would. */
    private static String verify(Map<String, Object> ready) throws Exception {
        return run(
                ready,
                null,
                "import subprocess; r = subprocess.run(['bash', 'verify'], capture_output=True, text=True); "
                        + "print(r.stdout + r.stderr, end='')");
    }

    @Test
    void aSessionSeesWhatMybinderGivesRepoDirLocalBinStartAfterPostBuild() throws Exception {
        Map<String, Object> ready = ready(
                "mh-verify",
                files(
                        "binder/runtime.txt", "python-3.11\n",
                        "binder/requirements.txt", "jinja2\n",
                        "binder/postBuild", """
                        #!/bin/bash
                        set -e
                        mkdir -p "$HOME/.local/bin"
                        printf '#!/bin/sh\\necho hello from postBuild\\n' > "$HOME/.local/bin/ferry-hello"
                        chmod +x "$HOME/.local/bin/ferry-hello"
                        echo "$REPO_DIR" > postbuild-repo-dir
                        touch postbuild-ran
                        """,
                        "binder/start", """
                        #!/bin/bash
                        if [ -f "$REPO_DIR/postbuild-ran" ]; then echo yes; else echo no; fi > "$REPO_DIR/start-saw-postbuild"
                        export FROM_START=yes
                        exec "$@"
                        """,
                        "verify", VERIFY));
        assertThat(verify(ready)).isEqualTo("verify: ok\n");
    }

    @Test
    void runtimeTxtPython3IsTheDefaultPython() throws Exception {
        Map<String, Object> ready = ready("mh-python-3", files("runtime.txt", "python-3\n"));
        assertThat(run(ready, null, "import sys; print(sys.version_info[0], 'venv' in sys.prefix)"))
                .isEqualTo("3 True\n");
    }

    @Test
    void aPipfileWithoutALockIsInstalledFromThePipfile() throws Exception {
        // ferrytestpkg exists only in this repository; the path is relative to the Pipfile's folder, as with pipenv
        EventStream.Result result = result(
                "mh-pipfile-nolock",
                files(
                        "binder/Pipfile",
                                "[packages]\njinja2 = \"*\"\nferrytestpkg = {path = \"../pkgs/ferrytestpkg\"}\n\n"
                                        + "[requires]\npython_version = \"3.11\"\n",
                        "pkgs/ferrytestpkg/setup.py",
                                "from setuptools import setup\nsetup(name='ferrytestpkg', version='1.0', "
                                        + "py_modules=['ferrytestpkg'])\n",
                        "pkgs/ferrytestpkg/ferrytestpkg.py", "ANSWER = 42\n"));
        assertThat(result.last().get("phase")).as(log(result)).isEqualTo("ready");
        assertThat(log(result)).contains("No Pipfile.lock: installing what binder/Pipfile lists");
        assertThat(run(result.last(), null, "import jinja2, ferrytestpkg; print(ferrytestpkg.ANSWER)"))
                .isEqualTo("42\n");
    }

    @Test
    void aPythonOnThePathThatDoesNotRunIsSkippedWithASentence() throws Exception {
        // On a machine with pyenv, python3.6 is a shim that exits 127 (3.6 not active); elsewhere there is none.
        boolean shim = !HostTools.findAll("python3.6").isEmpty()
                && HostTools.findAll("python3.6").stream().noneMatch(PythonFinder::runs);
        EventStream.Result result = result("mh-python36", files("runtime.txt", "python-3.6\n"));
        assertThat(result.last().get("phase")).as(log(result)).isEqualTo("ready");
        assertThat(log(result))
                .contains("Warning: the repository asks for Python 3.6, which this Ferry server does not "
                        + "have (runtime.txt).")
                .contains(
                        shim
                                ? "which does not run (a pyenv shim"
                                : "There is no python3.6 in any " + "folder of the Ferry server's PATH");
    }

    @Test
    void anUnreachablePackageIndexIsSaidAndTheFileUsedIsNamed() throws Exception {
        // an index on a closed loopback port: pip cannot connect, whatever the names
        EventStream.Result result = result(
                "mh-no-index",
                files(
                        "binder/requirements.txt",
                                "--index-url http://127.0.0.1:9/simple\nferry-package-that-is-fine\n",
                        "requirements.txt", "ignored-because-binder-exists\n"));
        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(log(result)).isEqualTo("failed");
        assertThat((String) failed.get("message"))
                .startsWith("Installing the packages of binder/requirements.txt failed because the package index could "
                        + "not be reached from the Ferry server")
                .doesNotContain("Check the package names");
        assertNothingLeftBehind();
    }

    @Test
    void theClassicServerAnswersMybindersJupyterLabLinks() throws Exception {
        Map<String, Object> ready = ready("mh-lab-links", files("data files/a b.ipynb", "{}"));
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        HttpResponse<String> lab = jupyter.get("lab?token=" + ready.get("token"));
        assertThat(lab.statusCode()).isEqualTo(302);
        assertThat(lab.headers().firstValue("Location").orElseThrow()).endsWith("/tree?token=" + ready.get("token"));
        HttpResponse<String> labpath = jupyter.get("doc/tree/data%20files/a%20b.ipynb");
        assertThat(labpath.statusCode()).isEqualTo(302);
        assertThat(labpath.headers().firstValue("Location").orElseThrow()).endsWith("/tree/data%20files/a%20b.ipynb");
        // and the classic page it leads to opens the notebook
        HttpResponse<String> tree = jupyter.get("tree/data%20files/a%20b.ipynb");
        assertThat(tree.statusCode()).isEqualTo(302);
        assertThat(tree.headers().firstValue("Location").orElseThrow()).endsWith("/notebooks/data%20files/a%20b.ipynb");
    }

    @Test
    void aToolOnlyPyprojectTomlIsNotPipInstalled() throws Exception {
        EventStream.Result result = result(
                "mh-pyproject-tools",
                files("pyproject.toml", "[tool.black]\nline-length = 100\n", "requirements.txt", "jinja2\n"));
        assertThat(result.last().get("phase")).as(log(result)).isEqualTo("ready");
        assertThat(log(result)).doesNotContain("Installing the repository itself");
    }

    @Test
    void environmentYamlIsACondaEnvironment() throws Exception {
        // with conda on the host it would build, from conda-forge, which these machines cannot reach
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Parts.ci()
                        || HostTools.findFirst("micromamba", "mamba", "conda").isEmpty(),
                "skipped: this host has conda, which would try to download from conda-forge");
        Map<String, Object> failed = result(
                        "mh-env-yaml", files("binder/environment.yaml", "dependencies:\n  - numpy\n"))
                .last();
        assertThat(failed.get("phase")).isEqualTo("failed");
        assertThat((String) failed.get("message")).contains("binder/environment.yaml, which needs conda");
    }

    @Test
    void aDescriptionPackageIsInstalledWithRemotes() throws Exception {
        Parts.requireRRemotes();
        EventStream.Result result = result(
                "mh-description",
                files(
                        "DESCRIPTION",
                                "Package: ferrydesc\nTitle: Ferry Test\nVersion: 0.1\nDescription: A test package.\n"
                                        + "License: MIT\nEncoding: UTF-8\n",
                        "NAMESPACE", "export(ferry_hello)\n",
                        "R/hello.R", "ferry_hello <- function() 6 * 7\n"));
        assertThat(result.last().get("phase")).as(log(result)).isEqualTo("ready");
        assertThat(log(result))
                .contains("Installing the R package described by DESCRIPTION with remotes::install_local");
        Process hostR = new ProcessBuilder("Rscript", "-e", "cat(R.version.string)")
                .redirectErrorStream(true)
                .start();
        String hostVersion = new String(hostR.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        hostR.waitFor();
        // verify-style, from the R kernel: the package, the R asked of the host, REPO_DIR as the working directory
        assertThat(run(
                        result.last(),
                        "ir",
                        "library(ferrydesc); cat(ferry_hello(), R.version.string, "
                                + "Sys.getenv('REPO_DIR') == getwd(), sep = '\\n')"))
                .isEqualTo("42\n" + hostVersion + "\nTRUE\n");
    }

    @Test
    void requirements3TxtGoesIntoTheServersEnvironmentBesideALegacyPython() throws Exception {
        // python-2.7: the host has no Python 2 that runs, so the default Python is used, and requirements3.txt (the
        // server's packages on mybinder.org) is installed into the one environment here
        EventStream.Result result = result(
                "mh-requirements3",
                files(
                        "runtime.txt", "python-2.7\n",
                        "requirements3.txt", "./pkgs/serverpkg\n",
                        "pkgs/serverpkg/setup.py",
                                "from setuptools import setup\nsetup(name='serverpkg', version='1.0', "
                                        + "py_modules=['serverpkg'])\n",
                        "pkgs/serverpkg/serverpkg.py", "WHERE = 'server'\n"));
        assertThat(result.last().get("phase")).as(log(result)).isEqualTo("ready");
        assertThat(log(result))
                .contains("Installing the packages listed in requirements3.txt (for the notebook server's "
                        + "environment)");
        assertThat(run(result.last(), null, "import serverpkg; print(serverpkg.WHERE)"))
                .isEqualTo("server\n");
    }
}
