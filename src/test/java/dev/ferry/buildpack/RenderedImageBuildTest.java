package dev.ferry.buildpack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.ContainerEngine;
import dev.ferry.testing.TempDirs;
import dev.ferry.testing.TestGitServer;

/**
 * The rendered Dockerfiles built for real (Debian's dockerd with BuildKit) and run, with a {@code verify} script inside
 * the container that checks what a user's code sees — as repo2docker's own tests do. The build context is made by
 * {@code prepare} from a commit on a real git server, exactly as the build Job makes it, with the operator's
 * {@code ferry.buildpack.*} settings passed as the Job passes them: the base image and the environment image point at
 * local images made from Debian's packages.
 *
 * <p>The environment image here stands in for the {@code /srv/conda} an operator would build with conda: Debian's
 * Python 3.11 in a virtual environment at {@code /srv/conda/envs/notebook} (seeing Debian's Jupyter), with an
 * {@code activate.d} script as conda packages such as proj bring; Node.js and npm come from Debian in the base image.
 *
 * <p>What cannot be built here, because a step downloads from outside Debian's mirror (Docker Hub, conda-forge, PyPI,
 * CRAN, Julia's registry, nixpkgs): the environment without an environment image (micromamba image, conda-forge), any
 * Python other than the environment image's (conda-forge), old Pythons' kernel environments (conda-forge),
 * {@code environment.yml} ({@code mamba env update} from conda-forge), {@code Pipfile} (pipenv from PyPI),
 * {@code setup.py}/{@code pyproject.toml} (pip's isolated build fetches setuptools from PyPI), R (the rocker image,
 * CRAN, RStudio's download), Julia (the julia image, IJulia from the General registry), Nix (the nixos/nix image, the
 * nixpkgs channel) and source-to-image (Red Hat's UBI builder). {@link DockerfileRendererTest} checks their Dockerfiles.
 */
public class RenderedImageBuildTest {

    static final String BASE = "localhost/ferry-test/r2d-base:bookworm";
    static final String ENVIRONMENT = "localhost/ferry-test/r2d-environment:bookworm";

    private static ContainerEngine engine;

    @BeforeAll
    static void images() throws Exception {
        localImages();
    }

    /** The local base and environment images (cached by the engine); the engine. Also used by RenderedSessionPodTest. */
    public static ContainerEngine localImages() throws Exception {
        engine = ContainerEngine.require();
        Path base = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-r2d-base"));
        Files.writeString(base.resolve("Dockerfile"), """
                FROM %s
                RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \\
                 && rm -rf /var/lib/apt/lists/*
                """.formatted(engine.notebookBase()));
        engine.build(base, BASE, Map.of());
        Path env = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-r2d-environment"));
        Files.writeString(env.resolve("Dockerfile"), """
                FROM %s
                RUN python3 -m venv --system-site-packages /srv/conda/envs/notebook \\
                 && mkdir -p /srv/conda/bin /srv/conda/envs/notebook/etc/conda/activate.d \\
                 && echo 'export PROJ_DATA="${CONDA_PREFIX}/share/proj"' > /srv/conda/envs/notebook/etc/conda/activate.d/proj4-activate.sh
                """.formatted(BASE));
        engine.build(env, ENVIRONMENT, Map.of());
        return engine;
    }

    /** The settings as the build Job hands them to {@code prepare} (FERRY_BUILDPACK_*), base images pointed at local ones. */
    private static Map<String, String> settings() {
        Map<String, String> env = new LinkedHashMap<>(BuildpackEnvironment.of(
                new BuildpackProperties(BASE, null, ENVIRONMENT, "3.11", null, null, null, null, null, null)));
        env.put("FERRY_REPO_ALLOWED_SCHEMES", "http");
        env.put("FERRY_REPO_ALLOW_PRIVATE_ADDRESSES", "true");
        return env;
    }

    /** Commits {@code files} to a real git server and runs {@code prepare} on it as the Job does; the build context. */
    public static Path prepared(String name, Map<String, String> files) throws Exception {
        Path out = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-r2d-context"))
                .resolve("workspace");
        try (TestGitServer git = new TestGitServer()) {
            String url = git.createRepo(name, files);
            String commit = git.commit(name, "main", Map.of("README.md", "# " + name + "\n"), "second");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = BuildpackCommands.run(
                    BuildpackCommandsTest.prepareOnMain(url, commit, out),
                    new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(err, true, StandardCharsets.UTF_8),
                    settings());
            assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        }
        return out;
    }

    /** A verify script as repo2docker's tests have: every check names itself; exit 1 at the first that fails. */
    private static final String VERIFY = """
            #!/bin/bash
            fail() { echo "FAIL: $*"; exit 1; }
            check() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; echo "ok: $1"; }
            check user "$(id -un)" "$EXPECT_USER"
            check uid "$(id -u)" "$EXPECT_UID"
            check HOME "$HOME" "/home/$EXPECT_USER"
            check REPO_DIR "$REPO_DIR" "$EXPECT_REPO_DIR"
            check "working directory" "$PWD" "$EXPECT_REPO_DIR"
            check CONDA_DIR "$CONDA_DIR" /srv/conda
            check NB_PYTHON_PREFIX "$NB_PYTHON_PREFIX" /srv/conda/envs/notebook
            check KERNEL_PYTHON_PREFIX "$KERNEL_PYTHON_PREFIX" /srv/conda/envs/notebook
            check python "$(command -v python)" /srv/conda/envs/notebook/bin/python
            check "python's environment" "$(python -c 'import sys; print(sys.prefix)')" /srv/conda/envs/notebook
            check "PATH starts" "${PATH%%:/srv/conda/envs/notebook/bin:*}" "$HOME/.local/bin:$REPO_DIR/.local/bin"
            case ":$PATH:" in *":/srv/conda/envs/notebook/bin:/srv/conda/bin:/srv/npm/bin:"*) echo "ok: conda and npm on PATH";; *) fail "PATH $PATH";; esac
            check "activate.d ran (PROJ_DATA)" "$PROJ_DATA" /srv/conda/envs/notebook/share/proj
            check "start ran" "$STARTED" yes
            check "postBuild ran, activated" "$(cat "$HOME/postbuild-ran")" "PROJ_DATA=/srv/conda/envs/notebook/share/proj npm=/srv/npm"
            check "~/.local/bin on PATH" "$(ferry-tool)" tool-ran
            check "apt.txt installed" "$(command -v jq)" /usr/bin/jq
            check node "$(command -v node)" /usr/bin/node
            check "npm global prefix" "$(npm config get prefix)" /srv/npm
            check LANG "$LANG" en_US.UTF-8
            locale -a | grep -qx en_US.utf8 || fail "en_US.UTF-8 locale missing"
            check "repository owned by the user" "$(stat -c %U "$REPO_DIR/README.md")" "$EXPECT_USER"
            check "environment owned by the user (postBuild may install)" "$(stat -c %U /srv/conda/envs/notebook/bin)" "$EXPECT_USER"
            check "npm prefix owned by the user" "$(stat -c %U /srv/npm)" "$EXPECT_USER"
            python -c 'import notebook, ipykernel' || fail "Jupyter is not importable"
            echo "all checks passed"
            """;

    private static final String POST_BUILD = """
            #!/bin/bash
            set -e
            mkdir -p "$HOME/.local/bin"
            printf '#!/bin/sh\\necho tool-ran\\n' > "$HOME/.local/bin/ferry-tool"
            chmod +x "$HOME/.local/bin/ferry-tool"
            echo "PROJ_DATA=${PROJ_DATA:-unset} npm=$(npm config get prefix)" > "$HOME/postbuild-ran"
            """;

    public static final String START = "#!/bin/bash\nexport STARTED=yes\nexec \"$@\"\n";

    /** Runs {@code verify} in the image through its entrypoint (so {@code start} runs first); its output, after exit 0. */
    private static String verify(String image, String verifyPath, Map<String, String> expect) {
        ContainerEngine.Container c =
                engine.run(ContainerEngine.RunSpec.of(image).env(expect).args(List.of("bash", verifyPath)));
        try {
            int exit = c.await(Duration.ofMinutes(2));
            String logs = c.logs();
            assertThat(exit).as(logs).isZero();
            assertThat(logs).contains("all checks passed");
            return logs;
        } finally {
            c.remove();
        }
    }

    @Test
    void aBinderFolderWithRequirementsAptPostBuildStartAndIgnoreFilesBuildsAndRunsAsOnMybinder() throws Exception {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("binder/requirements.txt", "notebook\n"); // satisfied by Debian's, so pip needs no index here
        files.put("binder/apt.txt", "jq\n");
        files.put("binder/postBuild", POST_BUILD);
        files.put("binder/start", START);
        files.put("binder/verify", VERIFY);
        // a root .dockerignore written for another image, listing binder/: not used, the binder folder's is
        files.put(".dockerignore", "binder/\nsecret.txt\n");
        files.put("binder/.dockerignore", "data/\n");
        files.put("secret.txt", "kept\n");
        files.put("data/big.csv", "1,2,3\n");
        Path context = prepared("binder-folder", files);
        assertThat(context.resolve(".ferry/Dockerfile.dockerignore")).content().contains("data/");

        String image = engine.build(
                context, context.resolve(".ferry/Dockerfile"), "localhost/ferry-test/r2d-binder:1", Map.of());
        String out = verify(
                image,
                "binder/verify",
                Map.of("EXPECT_USER", "jovyan", "EXPECT_UID", "1000", "EXPECT_REPO_DIR", "/home/jovyan"));
        assertThat(out).contains("ok: start ran", "ok: activate.d ran (PROJ_DATA)", "ok: apt.txt installed");

        // the ignore file of the binder folder applied, the root one not
        String listing = engine.docker("run", "--rm", "--entrypoint", "ls", image, "-A", "/home/jovyan")
                .output();
        assertThat(listing)
                .contains("binder", "secret.txt", "README.md")
                .doesNotContain("data")
                .doesNotContain(".ferry");
    }

    @Test
    void theServerRunsWithTheEnvironmentActivatedAfterStart() throws Exception {
        Path context = prepared(
                "server",
                Map.of(
                        "requirements.txt",
                        "ipykernel\n",
                        "start",
                        START,
                        "analysis.ipynb",
                        "{\"cells\": [], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}\n"));
        String image = engine.build(
                context, context.resolve(".ferry/Dockerfile"), "localhost/ferry-test/r2d-server:1", Map.of());
        String token = "r2d-token-".repeat(4);
        // the session Pod's arguments (SessionPods): the image's entrypoint stays, the command is Jupyter's
        ContainerEngine.Container c = engine.run(ContainerEngine.RunSpec.of(image)
                .args(List.of(
                        "jupyter",
                        "notebook",
                        "--ip=0.0.0.0",
                        "--port=8888",
                        "--no-browser",
                        "--NotebookApp.token=" + token,
                        "--NotebookApp.base_url=/user/s1/")));
        try {
            String base = "http://" + c.ip() + ":8888/user/s1/";
            assertThat(status(base + "api/contents/analysis.ipynb?token=" + token, Duration.ofSeconds(90)))
                    .as(c.logs())
                    .isEqualTo(200);
            // the server process itself (pid 1, after the entrypoint and start exec'd it) has the activated environment
            String environ = engine.docker("exec", c.id(), "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ")
                    .output();
            assertThat(environ)
                    .contains(
                            "STARTED=yes",
                            "PROJ_DATA=/srv/conda/envs/notebook/share/proj",
                            "CONDA_PREFIX=/srv/conda/envs/notebook",
                            "REPO_DIR=/home/jovyan");
            assertThat(engine.docker("exec", c.id(), "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline")
                            .output())
                    .contains("jupyter");
        } finally {
            c.remove();
        }
    }

    @Test
    void theBuildArgsNbUserNbUidAndRepoDirMoveTheUserAndTheRepository() throws Exception {
        Path context = prepared(
                "build-args",
                Map.of(
                        "requirements.txt",
                        "notebook\n",
                        "apt.txt",
                        "jq\n",
                        "postBuild",
                        POST_BUILD,
                        "start",
                        START,
                        "verify",
                        VERIFY));
        String image = engine.build(
                context,
                context.resolve(".ferry/Dockerfile"),
                "localhost/ferry-test/r2d-args:1",
                Map.of("NB_USER", "alice", "NB_UID", "1234", "REPO_DIR", "/srv/repo"));
        verify(image, "verify", Map.of("EXPECT_USER", "alice", "EXPECT_UID", "1234", "EXPECT_REPO_DIR", "/srv/repo"));
    }

    private static int status(String url, Duration wait) throws InterruptedException {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                int code = http.send(
                                HttpRequest.newBuilder(URI.create(url))
                                        .timeout(Duration.ofSeconds(5))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode();
                if (code != 503) {
                    return code;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(300);
        }
        return 0;
    }
}
