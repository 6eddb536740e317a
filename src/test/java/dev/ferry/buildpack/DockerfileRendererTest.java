package dev.ferry.buildpack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rendered Dockerfiles, checked for the properties the kubernetes platform relies on (not compared to golden
 * files): user jovyan/uid 1000 and its home holding the repository, Jupyter installed, port 8888, labels, each file's
 * step, and nothing from the repository's files pasted in unvalidated.
 */
class DockerfileRendererTest {

    @TempDir
    Path repo;

    private final DockerfileRenderer renderer = new DockerfileRenderer(BuildpackProperties.defaults());
    private static final DockerfileRenderer.Source SOURCE = new DockerfileRenderer.Source(
            "https://example.org/o/r.git", "0123456789abcdef0123456789abcdef01234567");

    private void file(String name, String content) throws IOException {
        Path path = repo.resolve(name);
        Files.createDirectories(path.getParent());
        Files.writeString(path, content, StandardCharsets.UTF_8);
    }

    private String render() {
        return renderer.render(new Detector().detect(repo), SOURCE);
    }

    private static List<String> lines(String dockerfile) {
        return Arrays.asList(dockerfile.split("\n"));
    }

    /** The properties every rendered (non-Dockerfile, non-s2i) image has. */
    private static void assertConventions(String d) {
        assertThat(lines(d).get(1)).startsWith("FROM ");
        assertThat(d).contains("useradd --uid 1000 --gid 1000 --create-home --home-dir /home/jovyan")
                .contains("HOME=/home/jovyan")
                .contains("COPY --chown=1000:1000 . /home/jovyan/")
                .contains("WORKDIR /home/jovyan")
                .contains("EXPOSE 8888")
                .contains("LABEL dev.ferry.repo=\"https://example.org/o/r.git\" dev.ferry.commit=\"0123456789abcdef0123456789abcdef01234567\"")
                .contains("CMD [\"jupyter\", \"notebook\", \"--ip=0.0.0.0\", \"--port=8888\"]");
        // the repository is copied, and everything after it runs as the user
        int copy = d.indexOf("COPY --chown=1000:1000 . /home/jovyan/");
        assertThat(d.indexOf("USER 1000", copy)).isGreaterThan(copy);
    }

    @Test
    void defaultPythonEnvironmentHasJupyterAndTheDefaultPython() {
        String d = render();
        assertConventions(d);
        assertThat(d).contains("FROM docker.io/library/buildpack-deps:jammy")
                .contains("COPY --from=docker.io/mambaorg/micromamba:1.5.8 /bin/micromamba /usr/local/bin/micromamba")
                .contains("python=3.11 pip notebook jupyterlab ipykernel");
    }

    @Test
    void requirementsAndRuntimeTxt() throws IOException {
        file("binder/requirements.txt", "numpy\n");
        file("binder/runtime.txt", "python-3.10\n");
        String d = render();
        assertConventions(d);
        assertThat(d).contains("python=3.10 ").contains("RUN [\"python\", \"-m\", \"pip\", \"install\", \"--no-cache-dir\", \"-r\", \"binder/requirements.txt\"]");
        int venv = d.indexOf("micromamba create");
        int pip = d.indexOf("\"-r\", \"binder/requirements.txt\"");
        assertThat(venv).isLessThan(pip);
    }

    @Test
    void setupPyIsInstalledEditable() throws IOException {
        file("setup.py", "from setuptools import setup\nsetup()\n");
        assertThat(render()).contains("RUN [\"python\", \"-m\", \"pip\", \"install\", \"--no-cache-dir\", \"-e\", \".\"]");
    }

    @Test
    void condaEnvironmentFileGoesThroughMicromamba() throws IOException {
        file("environment.yml", "dependencies:\n  - python=3.9\n  - xarray\n");
        String d = render();
        assertConventions(d);
        assertThat(d).contains("python=3.9 ").contains("\"micromamba\", \"install\", \"--yes\", \"--prefix\", \"/srv/conda/envs/notebook\", \"--file\", \"environment.yml\"");
    }

    @Test
    void pipfileUsesPipenvAndTheLockWhenPresent() throws IOException {
        file("Pipfile", "[packages]\nrequests = \"*\"\n");
        assertThat(render()).contains("pipenv install --system --dev --skip-lock");
        file("Pipfile.lock", "{}");
        assertThat(render()).contains("pipenv install --system --dev --deploy");
    }

    @Test
    void aptPackagesAreInstalledAsRootBeforeTheUserSteps() throws IOException {
        file("apt.txt", "graphviz\nlibgdal-dev\n");
        file("requirements.txt", "six\n");
        String d = render();
        assertThat(d).contains("apt-get install --yes --no-install-recommends 'graphviz' 'libgdal-dev'");
        assertThat(d.indexOf("'graphviz'")).isLessThan(d.indexOf("USER 1000"));
    }

    @Test
    void postBuildRunsAsTheUserAfterInstallationAndStartWrapsTheServer() throws IOException {
        file("binder/requirements.txt", "six\n");
        file("binder/postBuild", "#!/bin/bash\njupyter labextension list\n");
        file("binder/start", "#!/bin/bash\nexport X=1\nexec \"$@\"\n");
        String d = render();
        int install = d.indexOf("\"-r\", \"binder/requirements.txt\"");
        int post = d.indexOf("chmod +x ./binder/postBuild && exec ./binder/postBuild");
        assertThat(install).isPositive();
        assertThat(post).isGreaterThan(install);
        int lastUser = d.lastIndexOf("\nUSER ", post);
        assertThat(d.substring(lastUser + 1, d.indexOf('\n', lastUser + 1))).isEqualTo("USER 1000");
        assertThat(d).contains("ENTRYPOINT [\"/home/jovyan/binder/start\"]");
    }

    @Test
    void rUsesRockerImageTheSnapshotDateAndIrkernel() throws IOException {
        file("runtime.txt", "r-4.3-2023-10-01");
        file("install.R", "install.packages('ggplot2')\n");
        String d = render();
        assertConventions(d);
        assertThat(d).contains("FROM docker.io/rocker/r-ver:4.3").contains("IRkernel::installspec")
                .contains("RUN [\"Rscript\", \"install.R\"]");
        file("runtime.txt", "r-2023-10-01");
        assertThat(render()).contains("FROM docker.io/rocker/r-ver:latest")
                .contains("https://packagemanager.posit.co/cran/2023-10-01");
    }

    @Test
    void juliaInstantiatesTheProjectWithIJulia() throws IOException {
        file("Project.toml", "[deps]\nPlots = \"91a5bcdd-55d7-5caf-9e0b-520d859cae80\"\n[compat]\njulia = \"1.9\"\n");
        String d = render();
        assertConventions(d);
        assertThat(d).contains("FROM docker.io/library/julia:1.9").contains("Pkg.instantiate()").contains("Pkg.add(\"IJulia\")")
                .contains("JULIA_PROJECT=/home/jovyan");
    }

    @Test
    void nixRunsJupyterInsideTheShell() throws IOException {
        file("default.nix", "{}\n");
        String d = render();
        assertThat(d).contains("FROM docker.io/nixos/nix").contains("COPY --chown=1000:1000 . /home/jovyan/")
                .contains("ENTRYPOINT [\"nix-shell\", \"/home/jovyan/default.nix\"").contains("EXPOSE 8888");
    }

    @Test
    void aRepositoryDockerfileIsUsedAsItIs() throws IOException {
        file("Dockerfile", "FROM python:3.11\n");
        assertThat(render()).isNull();
    }

    @Test
    void sourceToImageRunsAssembleAndRun() throws IOException {
        file(".s2i/bin/assemble", "#!/bin/sh\n");
        String d = render();
        assertThat(d).contains("FROM " + DockerfileRenderer.DEFAULT_S2I_BUILDER).contains("COPY --chown=1001:0 . /tmp/src")
                .contains("/tmp/src/.s2i/bin/assemble").contains("/usr/libexec/s2i/run").contains("EXPOSE 8888");
    }

    @Test
    void nothingFromRepositoryFilesReachesTheDockerfileUnvalidated() throws IOException {
        file("requirements.txt", "numpy; sys_platform == 'linux' && touch /tmp/x\nRUN echo pwned\n");
        file("binder/environment.yml", "name: \"x\\nRUN echo pwned\"\ndependencies: [\"numpy\\nRUN echo pwned\"]\n");
        String d = renderer.render(new Detector().detect(repo), new DockerfileRenderer.Source(
                "https://example.org/\"quoted\"\nRUN echo label$HOME", "0123456789abcdef0123456789abcdef01234567"));
        assertThat(lines(d)).noneMatch(l -> l.startsWith("RUN echo"));
        assertThat(d).doesNotContain("pwned").doesNotContain("touch /tmp/x");
        assertThat(d).contains("dev.ferry.repo=\"https://example.org/\\\"quoted\\\" RUN echo label\\$HOME\"");
    }
}
