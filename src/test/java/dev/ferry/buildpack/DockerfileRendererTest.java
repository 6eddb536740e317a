package dev.ferry.buildpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rendered Dockerfiles, checked for the properties the kubernetes platform and repo2docker's users rely on (not
 * compared to golden files): the base environment (conda and mamba in /srv/conda, Node.js, REPO_DIR, NB_USER/NB_UID,
 * PATH, activation), each file's step in its place, and nothing from the repository's files pasted in unvalidated.
 * {@link RenderedImageBuildTest} builds and runs the cases that need only Debian's packages.
 */
class DockerfileRendererTest {

    @TempDir
    Path repo;

    private final DockerfileRenderer renderer = new DockerfileRenderer(BuildpackProperties.defaults());
    private static final DockerfileRenderer.Source SOURCE =
            new DockerfileRenderer.Source("https://example.org/o/r.git", "0123456789abcdef0123456789abcdef01234567");

    private void file(String name, String content) throws IOException {
        Path path = repo.resolve(name);
        Files.createDirectories(path.getParent());
        Files.writeString(path, content, StandardCharsets.UTF_8);
    }

    private String render() {
        return renderer.render(new Detector().detect(repo), SOURCE);
    }

    /** {@link #render()}, checked to give the user the base environment. */
    private String renderWithBaseEnvironment() {
        String d = render();
        assertBaseEnvironment(d);
        return d;
    }

    private static List<String> lines(String dockerfile) {
        return Arrays.asList(dockerfile.split("\n"));
    }

    /** A plan as detection makes it, for the cases whose files detection reads elsewhere (requirements3.txt). */
    private static BuildPlan plan(String buildpack, String configDir, List<String> files, String python) {
        Optional<String> server =
                files.stream().filter(f -> f.endsWith("requirements3.txt")).findFirst();
        return new BuildPlan(
                Buildpack.valueOf(buildpack.toUpperCase(java.util.Locale.ROOT)),
                configDir,
                files,
                Optional.ofNullable(python),
                Optional.empty(),
                Optional.empty(),
                List.of(),
                List.of(),
                Optional.empty(),
                Optional.empty(),
                false,
                Optional.empty(),
                List.of(),
                Optional.empty(),
                server,
                Optional.empty());
    }

    /** The environment every rendered (non-Dockerfile, non-s2i) image gives its user, as repo2docker's do. */
    private static void assertBaseEnvironment(String d) {
        assertThat(lines(d).get(1)).startsWith("FROM ");
        assertThat(d)
                .contains("ARG NB_USER=jovyan\n", "ARG NB_UID=1000\n")
                .contains("ENV USER=${NB_USER} NB_USER=${NB_USER} NB_UID=${NB_UID} HOME=/home/${NB_USER}")
                .contains(
                        "useradd --comment 'Default user' --create-home --no-log-init --home-dir \"${HOME}\" --uid \"${NB_UID}\"")
                .contains("CONDA_DIR=/srv/conda NB_PYTHON_PREFIX=/srv/conda/envs/notebook")
                .contains("NPM_DIR=/srv/npm NPM_CONFIG_GLOBALCONFIG=/srv/npm/npmrc")
                .contains("echo 'prefix=/srv/npm' > /srv/npm/npmrc")
                .contains("LC_ALL=en_US.UTF-8 LANG=en_US.UTF-8")
                .contains("ARG REPO_DIR=${HOME}\nENV REPO_DIR=${REPO_DIR}\n")
                .contains("WORKDIR ${REPO_DIR}\n")
                .contains("ENV PATH=${HOME}/.local/bin:${REPO_DIR}/.local/bin:${PATH}\n")
                .contains("COPY --chown=${NB_UID}:${NB_UID} . ${REPO_DIR}/\n")
                .contains("EXPOSE 8888")
                .contains(
                        "LABEL dev.ferry.repo=\"https://example.org/o/r.git\" dev.ferry.commit=\"0123456789abcdef0123456789abcdef01234567\"")
                .contains("ENTRYPOINT [\"/usr/local/bin/ferry-entrypoint\"]")
                .contains("CMD [\"jupyter\", \"notebook\", \"--ip=0.0.0.0\", \"--port=8888\"]");
        // /srv/conda owned by the user, in the step that writes it (no second copy of the environment in a chown layer)
        assertThat(d.contains("COPY --chown=${NB_UID}:${NB_UID} --from=")
                        || d.contains("micromamba clean --all --yes && chown -R ${NB_UID}:${NB_UID} /srv/conda\n"))
                .as("/srv/conda owned by the user")
                .isTrue();
        assertThat(d).doesNotContain("RUN chown -R ${NB_UID}:${NB_UID} /srv/conda");
        // the environment's bin directories come first, then conda's and npm's; the user's own before all of them
        assertThat(d)
                .containsPattern(
                        "ENV PATH=/srv/conda/envs/notebook/bin:(/srv/conda/envs/kernel/bin:)?/srv/conda/bin:/srv/npm/bin:\\$\\{PATH}");
        assertThat(d.indexOf("ENV PATH=${HOME}/.local/bin"))
                .isGreaterThan(d.indexOf("ENV PATH=/srv/conda/envs/notebook/bin"));
        // activation: the activate.d scripts of the environments run, for the server (entrypoint) and postBuild
        assertThat(d)
                .contains("\"$_p\"/etc/conda/activate.d/*.sh", "> /etc/profile.d/activate-conda.sh")
                .contains(
                        "'. /etc/profile.d/activate-conda.sh' \\\n    'if [ -n \"${R2D_ENTRYPOINT:-}\" ]; then exec \"${R2D_ENTRYPOINT}\" \"$@\"; fi'");
        // the repository is copied, and everything after it runs as the user
        int copy = d.indexOf("COPY --chown=${NB_UID}:${NB_UID} . ${REPO_DIR}/");
        assertThat(d.indexOf("USER ${NB_UID}", copy)).isGreaterThan(copy);
        assertThat(d.substring(copy)).doesNotContain("USER root");
    }

    @Test
    void theBaseEnvironmentHasCondaMambaNodeAndJupyterAtRepo2dockersDefaultPython() {
        String d = renderWithBaseEnvironment();
        assertThat(d)
                .contains("FROM docker.io/library/buildpack-deps:jammy")
                .contains("COPY --from=docker.io/mambaorg/micromamba:1.5.8 /bin/micromamba /usr/local/bin/micromamba")
                .contains(
                        "micromamba install --yes --root-prefix /srv/conda --prefix /srv/conda --channel conda-forge --override-channels conda mamba")
                .contains("printf '%s\\n' 'channels:' '  - conda-forge' '  - defaults'", "> /srv/conda/.condarc")
                .contains(
                        "--prefix /srv/conda/envs/notebook --channel conda-forge --override-channels python=3.10 pip nodejs=20 ")
                .contains(
                        " jupyter-server-proxy=4",
                        " jupyterlab=4",
                        " notebook=7",
                        " nbclassic=1",
                        " jupyterhub-singleuser=5",
                        " jupyter-resource-usage=1",
                        " jupyter-offlinenotebook",
                        " ipywidgets=8");
    }

    @Test
    void theDefaultPythonIsASetting() {
        String d = new DockerfileRenderer(
                        new BuildpackProperties(null, null, null, "3.12", null, null, null, null, null, null))
                .render(new Detector().detect(repo), SOURCE);
        assertThat(d).contains("python=3.12 pip ");
    }

    @Test
    void anEnvironmentImageReplacesTheDownloadAtTheDefaultPythonOnly() throws IOException {
        DockerfileRenderer withImage = new DockerfileRenderer(new BuildpackProperties(
                "localhost/base:1", null, "localhost/env:1", null, null, null, null, null, null, null));
        String d = withImage.render(new Detector().detect(repo), SOURCE);
        assertBaseEnvironment(d);
        assertThat(d)
                .startsWith("# Rendered")
                .contains("FROM localhost/base:1\n")
                .contains("COPY --chown=${NB_UID}:${NB_UID} --from=localhost/env:1 /srv/conda /srv/conda\n")
                .doesNotContain("micromamba create");
        file("runtime.txt", "python-3.12\n");
        assertThat(withImage.render(new Detector().detect(repo), SOURCE))
                .doesNotContain("localhost/env:1")
                .contains("python=3.12 pip ");
    }

    @Test
    void requirementsAndRuntimeTxtInstallIntoTheActivatedEnvironmentAfterTheCopy() throws IOException {
        file("binder/requirements.txt", "numpy\n");
        file("binder/runtime.txt", "python-3.11\n");
        String d = renderWithBaseEnvironment();
        assertThat(d)
                .contains("python=3.11 pip ")
                .contains(
                        "RUN . /etc/profile.d/activate-conda.sh && /srv/conda/envs/notebook/bin/pip install --no-cache-dir -r \"binder/requirements.txt\"");
        assertThat(d.indexOf("micromamba create")).isLessThan(d.indexOf("COPY --chown"));
        assertThat(d.indexOf("COPY --chown")).isLessThan(d.indexOf("-r \"binder/requirements.txt\""));
    }

    @Test
    void setupPyIsInstalledEditable() throws IOException {
        file("setup.py", "from setuptools import setup\nsetup()\n");
        assertThat(render()).contains("/srv/conda/envs/notebook/bin/pip install --no-cache-dir -e .");
    }

    @Test
    void anOldPythonBecomesAKernelEnvironmentBesideTheServersDefaultPython() {
        BuildPlan py27 = plan(
                "python",
                "binder",
                List.of("binder/requirements.txt", "binder/requirements3.txt", "binder/runtime.txt"),
                "2.7");
        String d = renderer.render(py27, SOURCE);
        assertBaseEnvironment(d);
        // the server: the default Python; the kernel: 2.7, registered with the server's Jupyter in place of python3
        assertThat(d)
                .contains("--prefix /srv/conda/envs/notebook --channel conda-forge --override-channels python=3.10 ")
                .contains(
                        "/srv/conda/bin/mamba create --yes --prefix /srv/conda/envs/kernel --channel conda-forge --override-channels python=2.7 ipykernel pip")
                .contains("/srv/conda/envs/kernel/bin/python -m ipykernel install --prefix /srv/conda/envs/notebook")
                .contains("rm -rf /srv/conda/envs/notebook/share/jupyter/kernels/python3")
                .contains(
                        "chown -R ${NB_UID}:${NB_UID} /srv/conda/envs/kernel /srv/conda/envs/notebook/share/jupyter/kernels")
                .contains("ENV KERNEL_PYTHON_PREFIX=/srv/conda/envs/kernel CONDA_DEFAULT_ENV=/srv/conda/envs/kernel")
                .contains(
                        "ENV PATH=/srv/conda/envs/notebook/bin:/srv/conda/envs/kernel/bin:/srv/conda/bin:/srv/npm/bin:${PATH}")
                // requirements.txt into the kernel, requirements3.txt into the server's environment
                .contains("/srv/conda/envs/kernel/bin/pip install --no-cache-dir -r \"binder/requirements.txt\"")
                .contains("/srv/conda/envs/notebook/bin/pip install --no-cache-dir -r \"binder/requirements3.txt\"");

        for (String old : List.of("3.5", "3.6", "3.6.8", "2")) {
            String k = renderer.render(plan("python", "", List.of(), old), SOURCE);
            assertThat(k)
                    .as(old)
                    .contains("override-channels python=3.10 ")
                    .contains("python=" + (old.equals("2") ? "2.7" : old) + " ipykernel pip");
            // a Python 3 kernel takes the python3 kernel's place; a Python 2 one is named python2, so python3 goes
            assertThat(k.contains("rm -rf /srv/conda/envs/notebook/share/jupyter/kernels/python3"))
                    .as(old)
                    .isEqualTo(old.equals("2"));
        }
        String modern = renderer.render(plan("python", "", List.of("requirements3.txt"), "3.8"), SOURCE);
        assertThat(modern)
                .contains("python=3.8 pip ")
                .doesNotContain("envs/kernel")
                .doesNotContain("requirements3.txt");
    }

    @Test
    void condaEnvironmentFileUpdatesTheEnvironmentWithMamba() throws IOException {
        file("environment.yml", "dependencies:\n  - python=3.9\n  - xarray\n");
        String d = renderWithBaseEnvironment();
        assertThat(d)
                .contains("python=3.9 pip ")
                .contains(
                        "RUN . /etc/profile.d/activate-conda.sh && mamba env update --prefix /srv/conda/envs/notebook --file \"environment.yml\"")
                .doesNotContain("IRkernel");
    }

    @Test
    void environmentYamlIsTheFileTheEnvironmentIsUpdatedFrom() throws IOException {
        file("binder/environment.yaml", "dependencies:\n  - numpy\n");
        assertThat(render())
                .contains("mamba env update --prefix /srv/conda/envs/notebook --file \"binder/environment.yaml\"");
    }

    @Test
    void anOldPythonInEnvironmentYmlGoesIntoTheKernelEnvironment() throws IOException {
        file("environment.yml", "dependencies:\n  - python=3.6\n  - numpy\n");
        String d = render();
        assertThat(d)
                .contains("python=3.10 pip ")
                .contains("python=3.6 ipykernel pip")
                .contains("mamba env update --prefix /srv/conda/envs/kernel --file \"environment.yml\"");
    }

    @Test
    void aCondaEnvironmentWithRBaseGetsIrkernelRegistered() throws IOException {
        file("binder/environment.yml", "channels: [conda-forge]\ndependencies:\n  - r-base=4.3\n  - r-ggplot2\n");
        String d = render();
        int update = d.indexOf("mamba env update");
        int irkernel = d.indexOf("--channel conda-forge r-irkernel");
        assertThat(update).isPositive();
        assertThat(irkernel).isGreaterThan(update);
        assertThat(d).contains("IRkernel::installspec(prefix = Sys.getenv('NB_PYTHON_PREFIX'))");
    }

    @Test
    void pipfileInstallsFromTheLockEvenWithAStaleHashWithAPinnedPipenv() throws IOException {
        file("Pipfile", "[packages]\nrequests = \"*\"\n");
        String noLock = render();
        assertBaseEnvironment(noLock);
        assertThat(noLock)
                .contains("/srv/conda/envs/notebook/bin/pip install --no-cache-dir pipenv==2022.1.8")
                .contains("pipenv install --skip-lock --system --dev");
        file("Pipfile.lock", "{\"_meta\": {\"hash\": {\"sha256\": \"stale\"}}, \"default\": {}, \"develop\": {}}");
        String lock = render();
        assertThat(lock)
                .contains("pipenv install --ignore-pipfile --system --dev")
                .doesNotContain("--deploy")
                .doesNotContain("--skip-lock");
        String pinned = new DockerfileRenderer(
                        new BuildpackProperties(null, null, null, null, null, null, null, null, "2023.7.23", null))
                .render(new Detector().detect(repo), SOURCE);
        assertThat(pinned).contains("pipenv==2023.7.23");
    }

    @Test
    void aptPackagesAreInstalledAsRootBeforeTheUserSteps() throws IOException {
        file("apt.txt", "graphviz\nlibgdal-dev\n");
        file("requirements.txt", "six\n");
        String d = render();
        assertThat(d).contains("apt-get install --yes --no-install-recommends 'graphviz' 'libgdal-dev'");
        assertThat(d.indexOf("'graphviz'")).isLessThan(d.indexOf("USER ${NB_UID}"));
    }

    @Test
    void postBuildRunsActivatedAsTheUserAfterInstallationAndStartIsTheEntrypointsR2dEntrypoint() throws IOException {
        file("binder/requirements.txt", "six\n");
        file("binder/postBuild", "#!/bin/bash\njupyter labextension list\n");
        file("binder/start", "#!/bin/bash\nexport X=1\nexec \"$@\"\n");
        String d = render();
        int install = d.indexOf("-r \"binder/requirements.txt\"");
        int post = d.indexOf(
                "RUN . /etc/profile.d/activate-conda.sh && chmod +x \"binder/postBuild\" && ./binder/postBuild");
        assertThat(install).isPositive();
        assertThat(post).isGreaterThan(install);
        int lastUser = d.lastIndexOf("\nUSER ", post);
        assertThat(d.substring(lastUser + 1, d.indexOf('\n', lastUser + 1))).isEqualTo("USER ${NB_UID}");
        assertThat(d)
                .contains("RUN chmod +x \"binder/start\"\nENV R2D_ENTRYPOINT=${REPO_DIR}/binder/start\n")
                .contains("ENTRYPOINT [\"/usr/local/bin/ferry-entrypoint\"]");
    }

    @Test
    void rWithAVersionAndADateUsesThatDatesSnapshot() throws IOException {
        file("runtime.txt", "r-4.3-2023-10-01");
        file("install.R", "install.packages('ggplot2')\n");
        String d = renderWithBaseEnvironment();
        assertThat(d)
                .contains("FROM docker.io/rocker/r-ver:4.3\n")
                .contains(
                        "https://packagemanager.posit.co/cran/__linux__/$(. /etc/os-release && echo \"${VERSION_CODENAME}\")/2023-10-01\"")
                .contains("\"$(R RHOME)/etc/Rprofile.site\"")
                .contains("r-cran-repos=${CRAN_SNAPSHOT}")
                .contains("IRkernel::installspec(user = FALSE, prefix = '/srv/conda/envs/notebook')")
                .contains("RUN . /etc/profile.d/activate-conda.sh && Rscript \"install.R\"");
        assertThat(d.indexOf("Rscript \"install.R\"")).isGreaterThan(d.indexOf("COPY --chown"));
    }

    @Test
    void rWithADateOnlyGetsTheDefaultRAndThatDatesSnapshot() throws IOException {
        file("runtime.txt", "r-2023-10-01");
        String d = render();
        assertThat(d).contains("FROM docker.io/rocker/r-ver:4.4\n").contains("/2023-10-01\"");
        String other = new DockerfileRenderer(
                        new BuildpackProperties(null, null, null, null, null, "4.2.3", null, null, null, null))
                .render(new Detector().detect(repo), SOURCE);
        assertThat(other).contains("FROM docker.io/rocker/r-ver:4.2.3\n");
    }

    @Test
    void rHasRstudioAndShinyThroughJupyterRsessionProxy() throws IOException {
        file("DESCRIPTION", "Package: demo\nVersion: 0.1\n");
        String d = render();
        assertThat(d)
                .contains("/rocker_scripts/install_rstudio.sh && /rocker_scripts/install_shiny_server.sh")
                .contains("/srv/conda/envs/notebook/bin/pip install --no-cache-dir jupyter-rsession-proxy")
                .contains("PATH=${PATH}:/usr/lib/rstudio-server/bin")
                .contains("R_LIBS_USER=/srv/rlibs")
                .contains("remotes::install_local('.', upgrade = 'never')")
                // no date: today's packages, not those frozen in the image
                .contains("/latest\"");
    }

    @Test
    void juliaReadsTheCompatBoundAsPkgDoesAndKeepsIJuliaOutOfTheProject() throws IOException {
        file("Project.toml", "[deps]\nPlots = \"91a5bcdd-55d7-5caf-9e0b-520d859cae80\"\n[compat]\njulia = \"=1.3\"\n");
        String d = renderWithBaseEnvironment();
        assertThat(d)
                .contains("FROM docker.io/library/julia:1.3.0\n")
                .contains("ENV JULIA_PROJECT=${REPO_DIR}\n")
                .contains(
                        "env -u JULIA_PROJECT julia -e 'using Pkg; Pkg.add(\"IJulia\"); using IJulia; installkernel(\"Julia\", \"--project=\" * ENV[\"FERRY_PROJECT\"])'")
                .contains("RUN julia -e 'using Pkg; Pkg.instantiate(); Pkg.precompile()'");
        assertThat(d.indexOf("Pkg.add(\"IJulia\")")).isLessThan(d.indexOf("COPY --chown"));
        assertThat(d.indexOf("Pkg.instantiate()")).isGreaterThan(d.indexOf("COPY --chown"));
        file("Project.toml", "[compat]\njulia = \"1.6\"\n");
        assertThat(render()).contains("FROM docker.io/library/julia:1\n");
        file("binder/Project.toml", "[compat]\njulia = \"~1.10\"\n");
        assertThat(render())
                .contains("FROM docker.io/library/julia:1.10\n")
                .contains("ENV JULIA_PROJECT=${REPO_DIR}/binder\n");
    }

    @Test
    void nixWrapsTheCommandSoThatNixShellNeverReadsJupytersOptionsAndHonoursStartAndAptTxt() throws IOException {
        file("binder/default.nix", "{}\n");
        file("binder/apt.txt", "graphviz\n");
        file("binder/start", "#!/bin/bash\nexec \"$@\"\n");
        String d = render();
        assertThat(d)
                .contains("FROM docker.io/library/buildpack-deps:jammy\n")
                .contains("COPY --from=docker.io/nixos/nix:2.24.9 /nix /nix\n")
                .contains("apt-get install --yes --no-install-recommends 'graphviz'")
                .contains("ENV FERRY_NIX_FILE=${REPO_DIR}/binder/default.nix\n")
                .contains("nix-shell \"binder/default.nix\" --run true")
                .contains("ENV R2D_ENTRYPOINT=${REPO_DIR}/binder/start\n")
                .contains("ENTRYPOINT [\"/usr/local/bin/nix-shell-wrapper\"]")
                .contains("exec nix-shell \"${FERRY_NIX_FILE}\" --command \"$(printf '\"'\"'%q '\"'\"' exec \"$@\")\"")
                .doesNotContain("--run \"exec \\\"$0\\\"");
        assertThat(d.indexOf("'graphviz'")).isLessThan(d.indexOf("COPY --chown"));
    }

    @Test
    void theNixWrapperHandsTheWholeCommandToNixShellAsOneQuotedCommand(@TempDir Path bin) throws Exception {
        // the wrapper as rendered, run by bash with a nix-shell that shows what it was given
        String d = renderer.render(plan("nix", "", List.of("default.nix"), null), SOURCE);
        Path wrapper = bin.resolve("wrapper");
        Files.writeString(wrapper, scriptFrom(d, DockerfileRenderer.NIX_WRAPPER));
        Path nixShell = bin.resolve("nix-shell");
        Files.writeString(nixShell, "#!/bin/bash\nprintf '<%s>' \"$@\"\n");
        nixShell.toFile().setExecutable(true);
        ProcessBuilder pb = new ProcessBuilder(
                "/bin/bash", wrapper.toString(), "jupyter", "notebook", "--ip=0.0.0.0", "--NotebookApp.token=a b'c");
        pb.environment().put("PATH", bin + ":/usr/bin:/bin");
        pb.environment().put("REPO_DIR", repo.toString());
        pb.environment().put("FERRY_NIX_FILE", repo.resolve("default.nix").toString());
        pb.environment().put("R2D_ENTRYPOINT", repo.resolve("start").toString());
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(out).startsWith("<" + repo.resolve("default.nix") + "><--command><exec ");
        String command = out.substring(out.indexOf("<--command><") + 12, out.length() - 1);
        // the command string, run by a shell, gives the start script exactly the server's arguments
        Process echo = new ProcessBuilder("/bin/bash", "-c", command.replaceFirst("^exec \\S+", "printf '[%s]'"))
                .redirectErrorStream(true)
                .start();
        assertThat(new String(echo.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo("[jupyter][notebook][--ip=0.0.0.0][--NotebookApp.token=a b'c]");
        assertThat(command).startsWith("exec " + repo.resolve("start") + " ");
    }

    /** The text a rendered {@code RUN printf '%s\n' 'line' … > path} writes. */
    static String scriptFrom(String dockerfile, String path) throws Exception {
        int end = dockerfile.indexOf(" > " + path + " && chmod 755 " + path);
        int start = dockerfile.lastIndexOf("RUN printf '%s\\n'", end);
        String command = dockerfile.substring(start + 4, end).replace("\\\n", " ");
        Process p = new ProcessBuilder("/bin/bash", "-c", command)
                .redirectErrorStream(true)
                .start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        return text;
    }

    @Test
    void theEntrypointActivatesThenRunsStartThenTheCommand(@TempDir Path dir) throws Exception {
        String d = render();
        Path activate = dir.resolve("activate.sh");
        Files.writeString(activate, scriptFrom(d, DockerfileRenderer.ACTIVATE));
        Path entry = dir.resolve("entry");
        Files.writeString(
                entry,
                scriptFrom(d, DockerfileRenderer.ENTRYPOINT).replace(DockerfileRenderer.ACTIVATE, activate.toString()));
        Path prefix = dir.resolve("env");
        Files.createDirectories(prefix.resolve("etc/conda/activate.d"));
        Files.writeString(
                prefix.resolve("etc/conda/activate.d/proj.sh"), "export PROJ_DATA=\"${CONDA_PREFIX}/share/proj\"\n");
        Path start = dir.resolve("start");
        Files.writeString(start, "#!/bin/bash\nexport STARTED=yes\nexec \"$@\"\n");
        start.toFile().setExecutable(true);
        ProcessBuilder pb = new ProcessBuilder(
                "/bin/bash", entry.toString(), "/bin/sh", "-c", "echo \"$PROJ_DATA $STARTED $0\"", "arg0");
        pb.environment().put("NB_PYTHON_PREFIX", prefix.toString());
        pb.environment().put("KERNEL_PYTHON_PREFIX", prefix.toString());
        pb.environment().put("CONDA_DIR", dir.resolve("none").toString());
        pb.environment().put("R2D_ENTRYPOINT", start.toString());
        pb.environment().remove("FERRY_ENV_ACTIVE");
        Process p = pb.redirectErrorStream(true).start();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip())
                .isEqualTo(prefix + "/share/proj yes arg0");
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
        assertThat(d)
                .contains("FROM " + DockerfileRenderer.DEFAULT_S2I_BUILDER)
                .contains("COPY --chown=1001:0 . /tmp/src")
                .contains("/tmp/src/.s2i/bin/assemble")
                .contains("/usr/libexec/s2i/run")
                .contains("EXPOSE 8888");
    }

    @Test
    void theIgnoreFileComesFromTheBinderFolderOnly() throws IOException {
        file(".dockerignore", "binder/\n*.csv\n");
        file("binder/requirements.txt", "six\n");
        String none = DockerfileRenderer.ignoreFile(repo, new Detector().detect(repo));
        assertThat(lines(none))
                .allMatch(l -> l.startsWith("#") || l.equals(".ferry"))
                .contains(".ferry");
        file("binder/.containerignore", "data/\n");
        assertThat(DockerfileRenderer.ignoreFile(repo, new Detector().detect(repo)))
                .contains("data/\n")
                .doesNotContain("binder/\n");
        file("binder/.dockerignore", "big/");
        assertThat(DockerfileRenderer.ignoreFile(repo, new Detector().detect(repo)))
                .contains("# from binder/.dockerignore\nbig/\n")
                .doesNotContain("data/");
    }

    @Test
    void withoutABinderFolderTheRootIgnoreFileCounts() throws IOException {
        file(".dockerignore", "*.csv\n");
        file("requirements.txt", "six\n");
        assertThat(DockerfileRenderer.ignoreFile(repo, new Detector().detect(repo)))
                .contains("# from .dockerignore\n*.csv\n");
    }

    @Test
    void imageSettingsCannotAddInstructions() {
        DockerfileRenderer bad = new DockerfileRenderer(new BuildpackProperties(
                "ubuntu\nRUN echo pwned", null, null, null, null, null, null, null, null, null));
        assertThatThrownBy(() -> bad.render(new Detector().detect(repo), SOURCE))
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("is not an image reference");
        DockerfileRenderer badPipenv = new DockerfileRenderer(
                new BuildpackProperties(null, null, null, null, null, null, null, null, "1 && curl x", null));
        assertThatThrownBy(() -> badPipenv.render(plan("pipfile", "", List.of("Pipfile"), null), SOURCE))
                .hasMessageContaining("is not a pipenv version");
    }

    @Test
    void nothingFromRepositoryFilesReachesTheDockerfileUnvalidated() throws IOException {
        file("requirements.txt", "numpy; sys_platform == 'linux' && touch /tmp/x\nRUN echo pwned\n");
        file("binder/environment.yml", "name: \"x\\nRUN echo pwned\"\ndependencies: [\"numpy\\nRUN echo pwned\"]\n");
        String d = renderer.render(
                new Detector().detect(repo),
                new DockerfileRenderer.Source(
                        "https://example.org/\"quoted\"\nRUN echo label$HOME",
                        "0123456789abcdef0123456789abcdef01234567"));
        assertThat(lines(d)).noneMatch(l -> l.startsWith("RUN echo"));
        assertThat(d).doesNotContain("pwned").doesNotContain("touch /tmp/x");
        assertThat(d).contains("dev.ferry.repo=\"https://example.org/\\\"quoted\\\" RUN echo label\\$HOME\"");
    }

    @Test
    void settingsTravelToThePrepareStepAsEnvironmentVariables() {
        BuildpackProperties set = new BuildpackProperties(
                "localhost/base:1",
                "localhost/mm:1",
                "localhost/env:1",
                "3.12",
                "localhost/r",
                "4.3",
                "localhost/julia",
                "localhost/nix:1",
                "2023.7.23",
                "");
        assertThat(BuildpackEnvironment.from(BuildpackEnvironment.of(set))).isEqualTo(set);
        assertThat(BuildpackEnvironment.from(java.util.Map.of())).isEqualTo(BuildpackProperties.defaults());
    }
}
