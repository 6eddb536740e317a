package dev.ferry.buildpack;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Renders a {@link BuildPlan} as a Dockerfile for the kubernetes builder, giving the image the environment repo2docker
 * users rely on: user {@code ${NB_USER}} (build args {@code NB_USER=jovyan}, {@code NB_UID=1000}) whose home holds the
 * repository ({@code REPO_DIR}); conda and mamba in {@code CONDA_DIR=/srv/conda} and the {@code notebook} environment
 * (Jupyter, Node.js and npm, jupyter-server-proxy) first on the PATH, with {@code ~/.local/bin} and
 * {@code ${REPO_DIR}/.local/bin} before them; the environment activated (conda {@code activate.d} scripts run) for
 * {@code postBuild}, {@code start} and the server; {@code start} run by the entrypoint through
 * {@code R2D_ENTRYPOINT}; port 8888; labels naming the repository and commit.
 *
 * <p>Nothing from the repository is pasted into the Dockerfile unvalidated: package names and versions were checked by
 * the {@link Detector}, labels are escaped, and scripts are referred to by fixed paths. The scripts Ferry adds (the
 * activation script, the entrypoint, the Nix wrapper) are fixed text.
 */
public final class DockerfileRenderer {

    public static final String DEFAULT_S2I_BUILDER = "registry.access.redhat.com/ubi9/python-311";
    static final String HOME = "/home/jovyan";
    static final String CONDA_DIR = "/srv/conda";
    static final String ENV_PREFIX = CONDA_DIR + "/envs/notebook";
    static final String KERNEL_PREFIX = CONDA_DIR + "/envs/kernel";
    static final String ACTIVATE = "/etc/profile.d/activate-conda.sh";
    static final String ENTRYPOINT = "/usr/local/bin/ferry-entrypoint";
    static final String NIX_WRAPPER = "/usr/local/bin/nix-shell-wrapper";
    /** Pythons conda-forge's current Jupyter does not run on: the server stays on the default Python (repo2docker's rule). */
    static final Set<String> KERNEL_ONLY_PYTHONS = Set.of("2.7", "3.5", "3.6");
    /**
     * The notebook environment beside Python: repo2docker's base environment ({@code conda/environment.yml}) and
     * jupyter-server-proxy, which mybinder's {@code ?urlpath=proxy/…} links need.
     */
    static final String NOTEBOOK_PACKAGES =
            "pip nodejs=20 ipywidgets=8 jupyter_server=2 jupyterlab=4 notebook=7 nbclassic=1 "
                    + "jupyterhub-singleuser=5 jupyter-resource-usage=1 jupyter-offlinenotebook jupyter-server-proxy=4";

    private static final Pattern VERSION = Pattern.compile("^\\d+(\\.\\d+){0,2}$");
    private static final Pattern DATE = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}$");
    private static final Pattern IMAGE = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$");
    private static final Pattern PIP_VERSION = Pattern.compile("^[0-9][0-9A-Za-z.]*$");
    private static final String USER = "${NB_UID}";

    private final BuildpackProperties settings;

    public DockerfileRenderer(BuildpackProperties settings) {
        this.settings = settings;
    }

    /** What the image is of, for its labels. {@code repoUrl} must be free of credentials. */
    public record Source(String repoUrl, String commit) {}

    /** The Pythons of an image: the server's, and a separate kernel's when the repository asks for an old one. */
    record Pythons(String notebook, String kernel) {
        boolean separateKernel() {
            return kernel != null;
        }

        String kernelPrefix() {
            return separateKernel() ? KERNEL_PREFIX : ENV_PREFIX;
        }
    }

    /**
     * The Dockerfile for the plan. For the {@code docker} buildpack it is the repository's own, returned as
     * {@code null}: the builder uses the file in the checkout.
     */
    public String render(BuildPlan plan, Source source) {
        return switch (plan.buildpack()) {
            case DOCKER -> null;
            case S2I -> s2i(plan, source);
            case R -> r(plan, source);
            case JULIA -> julia(plan, source);
            case NIX -> nix(plan, source);
            default -> python(plan, source);
        };
    }

    /**
     * The ignore file of the build context, written beside the Dockerfile as {@code Dockerfile.dockerignore} (BuildKit
     * then reads it instead of a {@code .dockerignore} at the context's root): the configuration folder's
     * {@code .dockerignore}, else its {@code .containerignore}, as repo2docker reads them. With a {@code binder/} folder,
     * a root {@code .dockerignore} (often written for another image, sometimes listing {@code binder/}) is not used.
     */
    public static String ignoreFile(Path checkout, BuildPlan plan) {
        RepoFiles repo = new RepoFiles(checkout);
        StringBuilder out = new StringBuilder(
                "# Written by Ferry: what the build leaves out of the image (see docs/environments.md).\n");
        for (String name : List.of(".dockerignore", ".containerignore")) {
            String path = plan.inConfigDir(name);
            if (repo.isFile(path)) {
                out.append("# from ").append(path).append('\n').append(repo.read(path));
                if (out.charAt(out.length() - 1) != '\n') {
                    out.append('\n');
                }
                break;
            }
        }
        // Ferry's own build files (the Dockerfile, plan.json) are not the repository's
        return out.append(".ferry\n").toString();
    }

    Pythons pythons(BuildPlan plan) {
        String asked = checkedVersion(plan.python().orElse(settings.pythonVersion()), "Python");
        String[] parts = asked.split("\\.");
        String minor = asked.equals("2") ? "2.7" : parts.length > 1 ? parts[0] + "." + parts[1] : asked;
        if (KERNEL_ONLY_PYTHONS.contains(minor) || plan.legacyPython()) {
            return new Pythons(checkedVersion(settings.pythonVersion(), "Python"), asked.equals("2") ? minor : asked);
        }
        return new Pythons(asked, null);
    }

    private String python(BuildPlan plan, Source source) {
        Pythons py = pythons(plan);
        StringBuilder d = header(settings.baseImage(), source);
        base(d);
        apt(d, plan);
        environment(d, py);
        activation(d);
        repository(d);
        String pip = py.kernelPrefix() + "/bin/pip";
        switch (plan.buildpack()) {
            case CONDA -> conda(d, plan, py);
            case PIPFILE -> pipfile(d, plan, py);
            default -> {
                if (plan.files().contains(plan.inConfigDir("requirements.txt"))) {
                    run(
                            d,
                            activated(pip + " install --no-cache-dir -r \"" + plan.inConfigDir("requirements.txt")
                                    + "\""));
                }
                if (plan.installPackage()) {
                    run(d, activated(pip + " install --no-cache-dir -e ."));
                }
            }
        }
        if (py.separateKernel()) {
            // the server's own environment (repo2docker: requirements3.txt beside an old Python's requirements.txt)
            plan.serverRequirements()
                    .ifPresent(file ->
                            run(d, activated(ENV_PREFIX + "/bin/pip install --no-cache-dir -r \"" + file + "\"")));
        }
        return finish(d, plan);
    }

    private void conda(StringBuilder d, BuildPlan plan, Pythons py) {
        String file = plan.condaFile().orElse(plan.inConfigDir("environment.yml"));
        run(
                d,
                activated("mamba env update --prefix " + py.kernelPrefix() + " --file \"" + file + "\""
                        + " && mamba clean --all --force-pkgs-dirs --yes"));
        if (plan.packages().stream().anyMatch(p -> p.strip().matches("^r-base\\b.*"))) {
            // an R in the environment gets a Jupyter kernel, as repo2docker registers IRkernel for it
            run(
                    d,
                    activated(
                            "mamba install --yes --prefix " + py.kernelPrefix() + " --channel conda-forge r-irkernel"
                                    + " && mamba clean --all --force-pkgs-dirs --yes"
                                    + " && R --quiet --no-save -e \"IRkernel::installspec(prefix = Sys.getenv('NB_PYTHON_PREFIX'))\""));
        }
    }

    private void pipfile(StringBuilder d, BuildPlan plan, Pythons py) {
        String pipenv = pipVersion(settings.pipenvVersion(), "pipenv");
        run(d, activated(ENV_PREFIX + "/bin/pip install --no-cache-dir pipenv==" + pipenv));
        boolean lock = plan.files().contains(plan.inConfigDir("Pipfile.lock"));
        String dir = plan.configDir().isEmpty() ? "." : plan.configDir();
        // repo2docker's step: from the lock as it is (--ignore-pipfile, so a stale hash is not an error), else the
        // Pipfile
        run(
                d,
                activated("cd \"" + dir + "\" && ([ -f Pipfile ] || touch Pipfile)"
                        + " && PATH=\"" + py.kernelPrefix() + "/bin:${PATH}\" pipenv install "
                        + (lock ? "--ignore-pipfile" : "--skip-lock") + " --system --dev && pipenv --clear"));
    }

    private String r(BuildPlan plan, Source source) {
        String asked = plan.r().orElse(settings.rVersion());
        boolean dateOnly = DATE.matcher(asked).matches();
        String version = checkedVersion(dateOnly ? settings.rVersion() : asked, "R");
        StringBuilder d = header(settings.rImage() + ":" + version, source);
        base(d);
        apt(d, plan);
        d.append("ENV R_LIBS_USER=/srv/rlibs PATH=${PATH}:/usr/lib/rstudio-server/bin\n");
        environment(d, new Pythons(checkedVersion(settings.pythonVersion(), "Python"), null));
        snapshot(d, plan);
        // RStudio and Shiny Server (rocker's own scripts), reached through jupyter-rsession-proxy at /rstudio and
        // /shiny
        run(d, "/rocker_scripts/install_rstudio.sh && /rocker_scripts/install_shiny_server.sh");
        run(d, ENV_PREFIX + "/bin/pip install --no-cache-dir jupyter-rsession-proxy");
        run(
                d,
                "R --quiet --no-save -e \"install.packages(c('IRkernel', 'remotes', 'devtools'))\""
                        + " && R --quiet --no-save -e \"IRkernel::installspec(user = FALSE, prefix = '" + ENV_PREFIX
                        + "')\"");
        // packages the user installs go to R_LIBS_USER, also in RStudio sessions
        run(
                d,
                "mkdir -p \"${R_LIBS_USER}\" && chown -R " + USER + ":" + USER + " \"${R_LIBS_USER}\""
                        + " && echo \"R_LIBS_USER=${R_LIBS_USER}\" >> \"$(R RHOME)/etc/Renviron.site\"");
        activation(d);
        repository(d);
        if (plan.files().contains(plan.inConfigDir("install.R"))) {
            run(d, activated("Rscript \"" + plan.inConfigDir("install.R") + "\""));
        }
        if (plan.files().contains("DESCRIPTION")) {
            run(d, activated("R --quiet --no-save -e \"remotes::install_local('.', upgrade = 'never')\""));
        }
        return finish(d, plan);
    }

    /** The CRAN snapshot of the date runtime.txt names (Posit's package manager, binary packages for the distribution). */
    private void snapshot(StringBuilder d, BuildPlan plan) {
        // without a date, today's packages (repo2docker: a snapshot of two days ago), not the image's frozen ones
        String date = plan.rSnapshot().orElse("latest");
        if (!date.equals("latest") && !DATE.matcher(date).matches()) {
            throw new BuildpackException("'" + Detector.printable(date) + "' is not a date (YYYY-MM-DD).");
        }
        run(
                d,
                "CRAN_SNAPSHOT=\"https://packagemanager.posit.co/cran/__linux__/$(. /etc/os-release && echo \"${VERSION_CODENAME}\")/"
                        + date
                        + "\" && echo \"options(repos = c(CRAN = '${CRAN_SNAPSHOT}'))\" >> \"$(R RHOME)/etc/Rprofile.site\""
                        + " && mkdir -p /etc/rstudio && echo \"r-cran-repos=${CRAN_SNAPSHOT}\" >> /etc/rstudio/rsession.conf");
    }

    private String julia(BuildPlan plan, Source source) {
        String tag = plan.julia().map(JuliaCompat::imageTag).orElse(JuliaCompat.NEWEST);
        StringBuilder d = header(settings.juliaImage() + ":" + tag, source);
        base(d);
        apt(d, plan);
        String project = "${REPO_DIR}" + (plan.configDir().isEmpty() ? "" : "/" + plan.configDir());
        environment(d, new Pythons(checkedVersion(settings.pythonVersion(), "Python"), null));
        d.append("ENV JULIA_DEPOT_PATH=/srv/julia/pkg JUPYTER=")
                .append(ENV_PREFIX)
                .append("/bin/jupyter\n");
        run(d, "mkdir -p /srv/julia/pkg && chown -R " + USER + ":" + USER + " /srv/julia");
        activation(d);
        repoDir(d);
        d.append("ENV JULIA_PROJECT=").append(project).append('\n');
        d.append("USER ").append(USER).append('\n');
        // IJulia in the default environment (@v1.x), not in the repository's project; its kernel opens the project
        run(
                d,
                "FERRY_PROJECT=\"${JULIA_PROJECT}\" JUPYTER_DATA_DIR=" + ENV_PREFIX
                        + "/share/jupyter env -u JULIA_PROJECT"
                        + " julia -e 'using Pkg; Pkg.add(\"IJulia\"); using IJulia; installkernel(\"Julia\", \"--project=\" * ENV[\"FERRY_PROJECT\"])'");
        copyRepository(d);
        run(d, "julia -e 'using Pkg; Pkg.instantiate(); Pkg.precompile()'");
        return finish(d, plan);
    }

    private String nix(BuildPlan plan, Source source) {
        StringBuilder d = header(settings.baseImage(), source);
        base(d);
        apt(d, plan);
        // the Nix store of the Nix image, used single-user by NB_USER (repo2docker installs Nix for the user too)
        d.append("COPY --from=").append(image(settings.nixImage())).append(" /nix /nix\n");
        run(
                d,
                "mkdir -p /etc/nix && printf '%s\\n' 'build-users-group =' 'sandbox = false' > /etc/nix/nix.conf"
                        + " && chown -R " + USER + ":" + USER + " /nix");
        d.append(
                        "ENV NIX_PATH=nixpkgs=${HOME}/.nix-defexpr/channels/nixpkgs NIX_SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
                .append(" GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt")
                .append(" PATH=${HOME}/.nix-profile/bin:/nix/var/nix/profiles/default/bin:${PATH}\n");
        script(
                d,
                NIX_WRAPPER,
                "#!/bin/bash",
                "# Written by Ferry, as the nix-shell-wrapper of repo2docker: the command, and the start script of the",
                "# repository before it, run inside nix-shell, quoted into one --command, so that nix-shell never takes",
                "# options of the command (--ip=...) for its own.",
                "cd \"${REPO_DIR}\" || exit 1",
                "if [ -n \"${R2D_ENTRYPOINT:-}\" ]; then set -- \"${R2D_ENTRYPOINT}\" \"$@\"; fi",
                "exec nix-shell \"${FERRY_NIX_FILE}\" --command \"$(printf '%q ' exec \"$@\")\"");
        repoDir(d);
        d.append("ENV FERRY_NIX_FILE=${REPO_DIR}/")
                .append(plan.inConfigDir("default.nix"))
                .append('\n');
        copyRepository(d);
        run(
                d,
                "nix-channel --add https://nixos.org/channels/nixpkgs-unstable nixpkgs && nix-channel --update"
                        + " && nix-shell \"" + plan.inConfigDir("default.nix") + "\" --run true");
        postBuild(d, plan, false);
        start(d, plan);
        d.append("ENV PYTHONUNBUFFERED=1\nEXPOSE 8888\n");
        d.append("ENTRYPOINT [\"").append(NIX_WRAPPER).append("\"]\n");
        d.append("CMD [\"jupyter\", \"notebook\", \"--ip=0.0.0.0\", \"--port=8888\"]\n");
        return d.toString();
    }

    private String s2i(BuildPlan plan, Source source) {
        String builder = plan.s2iBuilder().orElse(DEFAULT_S2I_BUILDER);
        StringBuilder d = header(builder, source);
        d.append("USER root\n");
        d.append("COPY --chown=1001:0 . /tmp/src\n");
        d.append("RUN chmod -R g+w /tmp/src\n");
        d.append("USER 1001\n");
        d.append(
                "RUN if [ -x /tmp/src/.s2i/bin/assemble ]; then /tmp/src/.s2i/bin/assemble; else /usr/libexec/s2i/assemble; fi\n");
        // The session Pod runs every image as uid 1000 with the HOME set above, not as the builder's user: without a
        // home
        // of its own Jupyter cannot start (its runtime folder), and the folder assemble filled (the builder's working
        // directory) would be read-only to it. Group 0 stays, as s2i images expect.
        d.append("USER root\n");
        d.append("RUN mkdir -p ")
                .append(HOME)
                .append(" && chown -R 1000:1000 ")
                .append(HOME)
                .append(" && chown -R 1000:0 \"$(pwd)\"\n");
        d.append("USER 1000\n");
        d.append("EXPOSE 8888\n");
        d.append(
                "CMD [\"/bin/sh\", \"-c\", \"if [ -x /tmp/src/.s2i/bin/run ]; then exec /tmp/src/.s2i/bin/run; else exec /usr/libexec/s2i/run; fi\"]\n");
        return d.toString();
    }

    private StringBuilder header(String image, Source source) {
        StringBuilder d = new StringBuilder();
        d.append("# Rendered by Ferry from the repository's environment files; see docs/environments.md.\n");
        d.append("FROM ").append(image(image)).append('\n');
        d.append("LABEL dev.ferry.repo=")
                .append(labelValue(source.repoUrl()))
                .append(" dev.ferry.commit=")
                .append(labelValue(source.commit()))
                .append(" repo2docker.repo=")
                .append(labelValue(source.repoUrl()))
                .append(" repo2docker.ref=")
                .append(labelValue(source.commit()))
                .append('\n');
        d.append("USER root\n");
        return d;
    }

    /** The user, locale and paths every repo2docker image has; the same steps on any base, so they cache across repositories. */
    private static void base(StringBuilder d) {
        d.append("SHELL [\"/bin/bash\", \"-c\"]\n");
        d.append("ENV DEBIAN_FRONTEND=noninteractive\n");
        run(
                d,
                "apt-get update > /dev/null && apt-get install --yes --no-install-recommends ca-certificates less locales unzip > /dev/null"
                        + " && echo 'en_US.UTF-8 UTF-8' > /etc/locale.gen && locale-gen > /dev/null"
                        + " && apt-get clean && rm -rf /var/lib/apt/lists/*");
        d.append("ENV LC_ALL=en_US.UTF-8 LANG=en_US.UTF-8 LANGUAGE=en_US.UTF-8 SHELL=/bin/bash\n");
        d.append("ARG NB_USER=jovyan\nARG NB_UID=1000\n");
        d.append("ENV USER=${NB_USER} NB_USER=${NB_USER} NB_UID=${NB_UID} HOME=/home/${NB_USER}\n");
        // a base image may already have a user with NB_UID (julia, rocker): it becomes NB_USER with NB_USER's home
        run(
                d,
                "if getent passwd \"${NB_UID}\" > /dev/null; then"
                        + " usermod --login \"${NB_USER}\" --home \"${HOME}\" --move-home \"$(getent passwd \"${NB_UID}\" | cut -d: -f1)\";"
                        + " else groupadd --gid \"${NB_UID}\" \"${NB_USER}\" 2> /dev/null || true;"
                        + " useradd --comment 'Default user' --create-home --no-log-init --home-dir \"${HOME}\" --uid \"${NB_UID}\""
                        + " --gid \"${NB_UID}\" --shell /bin/bash \"${NB_USER}\"; fi"
                        + " && mkdir -p \"${HOME}\" && chown \"${NB_UID}:${NB_UID}\" \"${HOME}\"");
        d.append("ENV APP_BASE=/srv CONDA_DIR=")
                .append(CONDA_DIR)
                .append(" NB_PYTHON_PREFIX=")
                .append(ENV_PREFIX)
                .append(" NPM_DIR=/srv/npm NPM_CONFIG_GLOBALCONFIG=/srv/npm/npmrc MAMBA_ROOT_PREFIX=")
                .append(CONDA_DIR)
                .append(" MAMBA_EXE=")
                .append(CONDA_DIR)
                .append("/bin/mamba CONDA_PLATFORM=linux-64\n");
        // npm install -g as the user goes to NPM_DIR, on the PATH
        run(
                d,
                "mkdir -p /srv/npm && echo 'prefix=/srv/npm' > /srv/npm/npmrc && chown -R " + USER + ":" + USER
                        + " /srv/npm");
    }

    private static void apt(StringBuilder d, BuildPlan plan) {
        if (plan.aptPackages().isEmpty()) {
            return;
        }
        d.append("# apt.txt, installed as root\n");
        run(
                d,
                "apt-get update > /dev/null && apt-get install --yes --no-install-recommends "
                        + plan.aptPackages().stream().map(p -> "'" + p + "'").collect(Collectors.joining(" "))
                        + " && apt-get clean && rm -rf /var/lib/apt/lists/*");
    }

    /**
     * {@code /srv/conda}: conda and mamba, the notebook environment (and an old Python's kernel environment), owned by
     * the user as in repo2docker, so that {@code postBuild} can {@code mamba install}. Copied from the environment image
     * when one is set and the server's Python is the default one.
     */
    private void environment(StringBuilder d, Pythons py) {
        d.append("ENV KERNEL_PYTHON_PREFIX=")
                .append(py.kernelPrefix())
                .append(" CONDA_DEFAULT_ENV=")
                .append(py.kernelPrefix())
                .append('\n');
        d.append("ENV PATH=")
                .append(ENV_PREFIX)
                .append("/bin:")
                .append(py.separateKernel() ? KERNEL_PREFIX + "/bin:" : "")
                .append(CONDA_DIR)
                .append("/bin:/srv/npm/bin:${PATH}\n");
        boolean prebuilt =
                !settings.environmentImage().isEmpty() && py.notebook().equals(settings.pythonVersion());
        // owned by the user in the step that writes it: a later chown -R would copy the whole environment into a new
        // layer
        if (prebuilt) {
            d.append("COPY --chown=")
                    .append(USER)
                    .append(':')
                    .append(USER)
                    .append(" --from=")
                    .append(image(settings.environmentImage()))
                    .append(' ')
                    .append(CONDA_DIR)
                    .append(' ')
                    .append(CONDA_DIR)
                    .append('\n');
        } else {
            d.append("COPY --from=")
                    .append(image(settings.micromambaImage()))
                    .append(" /bin/micromamba /usr/local/bin/micromamba\n");
            // conda-forge first for what postBuild and environment.yml install with conda or mamba, as repo2docker sets
            // it
            run(
                    d,
                    "mkdir -p " + CONDA_DIR + " && printf '%s\\n' 'channels:' '  - conda-forge' '  - defaults'"
                            + " 'auto_update_conda: false' 'show_channel_urls: true' 'update_dependencies: false' > "
                            + CONDA_DIR + "/.condarc"
                            + " && micromamba install --yes --root-prefix " + CONDA_DIR + " --prefix " + CONDA_DIR
                            + " --channel conda-forge --override-channels conda mamba"
                            + " && micromamba create --yes --root-prefix " + CONDA_DIR + " --prefix " + ENV_PREFIX
                            + " --channel conda-forge --override-channels python=" + py.notebook() + " "
                            + NOTEBOOK_PACKAGES
                            + " && micromamba clean --all --yes && chown -R " + USER + ":" + USER + " " + CONDA_DIR);
        }
        if (py.separateKernel()) {
            run(
                    d,
                    CONDA_DIR + "/bin/mamba create --yes --prefix " + KERNEL_PREFIX
                            + " --channel conda-forge --override-channels python=" + py.kernel() + " ipykernel pip"
                            + " && " + CONDA_DIR + "/bin/mamba clean --all --force-pkgs-dirs --yes"
                            + " && " + KERNEL_PREFIX + "/bin/python -m ipykernel install --prefix " + ENV_PREFIX
                            + (py.kernel().startsWith("2")
                                    ? " && rm -rf " + ENV_PREFIX + "/share/jupyter/kernels/python3"
                                    : "")
                            + " && chown -R " + USER + ":" + USER + " " + KERNEL_PREFIX + " " + ENV_PREFIX
                            + "/share/jupyter/kernels");
        }
    }

    /**
     * The activation script (what {@code conda activate} does beyond PATH: the environments' {@code activate.d}
     * scripts, which set such variables as {@code PROJ_DATA}; the {@code conda} and {@code mamba} shell functions) and
     * the entrypoint that runs it, then {@code R2D_ENTRYPOINT} (the repository's {@code start}), then the server.
     */
    private static void activation(StringBuilder d) {
        script(
                d,
                ACTIVATE,
                "# Written by Ferry: activates the environment as conda activate does (the image sets PATH).",
                "if [ -z \"${FERRY_ENV_ACTIVE:-}\" ]; then",
                "  export FERRY_ENV_ACTIVE=1 CONDA_PREFIX=\"${KERNEL_PYTHON_PREFIX}\"",
                "  for _f in \"${CONDA_DIR}/etc/profile.d/conda.sh\" \"${CONDA_DIR}/etc/profile.d/mamba.sh\"; do",
                "    if [ -f \"$_f\" ]; then . \"$_f\"; fi",
                "  done",
                "  for _p in $(printf '%s\\n' \"${NB_PYTHON_PREFIX}\" \"${KERNEL_PYTHON_PREFIX}\" | uniq); do",
                "    for _f in \"$_p\"/etc/conda/activate.d/*.sh; do",
                "      if [ -r \"$_f\" ]; then . \"$_f\"; fi",
                "    done",
                "  done",
                "  unset _f _p",
                "fi");
        script(
                d,
                ENTRYPOINT,
                "#!/bin/bash",
                "# Written by Ferry, as the entrypoint of repo2docker images: the environment activated, then the",
                "# start script of the repository (R2D_ENTRYPOINT) if any, which ends with exec \"$@\", then the command.",
                ". " + ACTIVATE,
                "if [ -n \"${R2D_ENTRYPOINT:-}\" ]; then exec \"${R2D_ENTRYPOINT}\" \"$@\"; fi",
                "exec \"$@\"");
    }

    /** A fixed script written by {@code printf}, one single-quoted argument per line. */
    private static void script(StringBuilder d, String path, String... lines) {
        d.append("RUN printf '%s\\n'");
        for (String line : lines) {
            d.append(" \\\n    ").append(shellQuote(line));
        }
        d.append(" > ").append(path).append(" && chmod 755 ").append(path).append('\n');
    }

    private static String shellQuote(String line) {
        return "'" + line.replace("'", "'\"'\"'") + "'";
    }

    private static void repository(StringBuilder d) {
        repoDir(d);
        copyRepository(d);
    }

    /** {@code REPO_DIR} (a build arg, default the home), owned by the user, the working directory, its bin on the PATH. */
    private static void repoDir(StringBuilder d) {
        d.append("ARG REPO_DIR=${HOME}\n");
        d.append("ENV REPO_DIR=${REPO_DIR}\n");
        run(d, "mkdir -p \"${REPO_DIR}\" && chown " + USER + ":" + USER + " \"${REPO_DIR}\"");
        d.append("WORKDIR ${REPO_DIR}\n");
        d.append("ENV PATH=${HOME}/.local/bin:${REPO_DIR}/.local/bin:${PATH}\n");
    }

    /** The repository into {@code REPO_DIR}, owned by the user; every later step runs as the user. */
    private static void copyRepository(StringBuilder d) {
        d.append("USER root\n");
        d.append("COPY --chown=").append(USER).append(':').append(USER).append(" . ${REPO_DIR}/\n");
        d.append("USER ").append(USER).append('\n');
    }

    private static void postBuild(StringBuilder d, BuildPlan plan, boolean activate) {
        plan.postBuild().ifPresent(path -> {
            String command = "chmod +x \"" + path + "\" && ./" + path;
            run(d, activate ? activated(command) : command);
        });
    }

    private static void start(StringBuilder d, BuildPlan plan) {
        plan.start().ifPresent(path -> {
            run(d, "chmod +x \"" + path + "\"");
            d.append("ENV R2D_ENTRYPOINT=${REPO_DIR}/").append(path).append('\n');
        });
    }

    private static String finish(StringBuilder d, BuildPlan plan) {
        postBuild(d, plan, true);
        start(d, plan);
        d.append("ENV PYTHONUNBUFFERED=1\n");
        d.append("EXPOSE 8888\n");
        d.append("ENTRYPOINT [\"").append(ENTRYPOINT).append("\"]\n");
        d.append("CMD [\"jupyter\", \"notebook\", \"--ip=0.0.0.0\", \"--port=8888\"]\n");
        return d.toString();
    }

    private static void run(StringBuilder d, String command) {
        d.append("RUN ").append(command).append('\n');
    }

    private static String activated(String command) {
        return ". " + ACTIVATE + " && " + command;
    }

    /** An image named by an operator setting: one word, so that it cannot add a Dockerfile instruction. */
    private static String image(String image) {
        if (!IMAGE.matcher(image).matches()) {
            throw new BuildpackException("'" + Detector.printable(image) + "' is not an image reference; check the "
                    + "ferry.buildpack.* image settings.");
        }
        return image;
    }

    private static String pipVersion(String version, String what) {
        if (!PIP_VERSION.matcher(version).matches()) {
            throw new BuildpackException("'" + Detector.printable(version) + "' is not a " + what + " version.");
        }
        return version;
    }

    private static String checkedVersion(String version, String what) {
        if (!VERSION.matcher(version).matches()) {
            throw new BuildpackException("'" + Detector.printable(version) + "' is not a " + what + " version.");
        }
        return version;
    }

    /** A Dockerfile LABEL value: a double-quoted string with quotes, backslashes and line breaks escaped. */
    static String labelValue(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"', '\\' -> out.append('\\').append(c);
                case '\n', '\r' -> out.append(' ');
                case '$' -> out.append("\\$");
                default -> out.append(Character.isISOControl(c) ? ' ' : c);
            }
        }
        return out.append('"').toString();
    }
}
