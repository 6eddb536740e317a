package dev.ferry.platform.local;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.api.errors.JGitInternalException;
import org.eclipse.jgit.lib.ProgressMonitor;

import dev.ferry.HeadAndTail;
import dev.ferry.build.BuildContext;
import dev.ferry.build.BuildFailedException;
import dev.ferry.build.BuildLog;
import dev.ferry.build.Builder;
import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.build.Phase;
import dev.ferry.buildpack.BuildPlan;
import dev.ferry.buildpack.Buildpack;
import dev.ferry.buildpack.Detector;
import dev.ferry.repo.GuardedUrl;
import dev.ferry.repo.RecordDownloader;
import dev.ferry.repo.RemoteGit;
import dev.ferry.repo.RepoCheckout;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.repo.Urls;

/**
 * Builds an environment on this machine from the repository's {@link BuildPlan}: JGit fetches exactly the commit
 * into {@code envs/<key>/repo}; Python, Pipfile and R repositories get a virtual environment in
 * {@code envs/<key>/venv} (R and Julia add their kernel to it), conda repositories a conda environment in
 * {@code envs/<key>/conda} made by micromamba, mamba or conda; {@code postBuild} runs last. What the host cannot do
 * (a Dockerfile, Nix, a missing R or Julia or conda) fails with a sentence naming what to install or the kubernetes
 * platform; {@code apt.txt} packages missing on the host are reported as a warning. The marker file is written last;
 * a failed or cancelled build leaves no directory behind.
 */
final class LocalEnvBuilder implements Builder {

    /** Prints which Jupyter application the environment can run, best first. */
    static final String JUPYTER_PROBE = String.join(
            "\n",
            "import importlib.util as u",
            "def has(m): return u.find_spec(m) is not None",
            "app = 'none'",
            "if not has('ipykernel'): app = 'none'",
            "elif has('jupyterlab') and has('jupyter_server'): app = 'lab'",
            "elif has('notebook'):",
            "    import notebook",
            "    app = 'notebook7' if int(notebook.__version__.split('.')[0]) >= 7 else 'notebook6'",
            "elif has('jupyter_server'): app = 'server'",
            "print(app)");

    private static final String NO_SPACE = "No space left on device";
    static final String DISK_FULL =
            "The Ferry server ran out of disk space while building this repository (No space left "
                    + "on device). What the build wrote has been removed; launch again later, and tell the operator if it keeps "
                    + "happening.";
    private static final String KUBERNETES_HINT = " Ferry's kubernetes platform builds it as an image.";

    private final LocalLayout layout;
    private final RemoteGit git;
    private final PythonFinder python;
    private final boolean systemSitePackages;
    private final Detector detector;
    private final RepoCheckout checkout;
    private final Sandbox sandbox;
    /** Fetches records of research archives (Zenodo, …); null where they are not set up. */
    private final RecordDownloader records;

    LocalEnvBuilder(
            LocalLayout layout,
            RemoteGit git,
            RepoCheckout checkout,
            PythonFinder python,
            boolean systemSitePackages,
            Detector detector,
            Sandbox sandbox) {
        this(layout, git, checkout, null, python, systemSitePackages, detector, sandbox);
    }

    LocalEnvBuilder(
            LocalLayout layout,
            RemoteGit git,
            RepoCheckout checkout,
            RecordDownloader records,
            PythonFinder python,
            boolean systemSitePackages,
            Detector detector,
            Sandbox sandbox) {
        this.records = records;
        this.layout = layout;
        this.sandbox = sandbox;
        this.git = git;
        this.checkout = checkout;
        this.python = python;
        this.systemSitePackages = systemSitePackages;
        this.detector = detector;
    }

    @Override
    public Optional<Environment> findBuilt(ImageKey key) {
        Path marker = layout.envDir(key).resolve(LocalLayout.ENV_MARKER);
        if (Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of(environment(key));
        }
        return Optional.empty();
    }

    static Environment environment(ImageKey key) {
        return new Environment(key, "ferry-local/" + key.slug() + ":" + key.commit());
    }

    /** How to run a server from a built environment. */
    LocalEnvironment runtime(ImageKey key) {
        return LocalEnvironment.read(layout.envDir(key).resolve(LocalLayout.ENV_MARKER));
    }

    @Override
    public Environment build(BuildContext ctx) throws Exception {
        Path dir = layout.envDir(ctx.key());
        LocalLayout.deleteTree(dir); // an incomplete environment from an earlier, interrupted build
        Files.createDirectories(dir);
        boolean done = false;
        try {
            Environment env = buildInto(dir, ctx);
            done = true;
            return env;
        } catch (IOException | GitAPIException | JGitInternalException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (String.valueOf(t.getMessage()).contains(NO_SPACE)) {
                    throw new BuildFailedException(507, DISK_FULL);
                }
            }
            throw e;
        } finally {
            // A step's children that outlived it (killed parent, a daemon started by postBuild) must not run on.
            ProcessTree.stopAll(ProcessTree.inside(dir), 2000);
            if (!done) {
                LocalLayout.deleteTree(dir);
            }
        }
    }

    /** One build: the paths, the log and the cancellation of the context, and what the steps decided. */
    private final class Steps {
        final BuildContext ctx;
        final Path dir;
        final Path checkout;
        final Path venv;
        final BuildLog out;
        final Map<String, String> extraEnv = new LinkedHashMap<>();
        /** Host programs' folders outside the system folders that the steps (and later the server) run. */
        final List<Path> hostPaths = new ArrayList<>();

        Steps(BuildContext ctx, Path dir) {
            this.ctx = ctx;
            this.dir = dir;
            this.checkout = dir.resolve("repo");
            this.venv = dir.resolve("venv");
            this.out = ctx.log();
        }

        Map<String, String> env(Path prefix) {
            Map<String, String> env = layout.childEnvironment(checkout, prefix);
            repo2dockerVariables(env, checkout);
            if (sandbox.isolated()) {
                // A pip cache shared between builds would let one repository's build plant packages for another's.
                env.put("PIP_CACHE_DIR", "/tmp/pip-cache");
            }
            if (prefix != null) {
                // Sessions never read the repository's ~/.jupyter; what a postBuild enables "for the user" (jupyter
                // nbextension/serverextension enable --user) goes to the environment's etc/jupyter, which they read.
                env.put(
                        "JUPYTER_CONFIG_DIR",
                        prefix.resolve("etc").resolve("jupyter").toString());
            }
            env.putAll(extraEnv);
            return env;
        }

        /** A step's command as it runs: in the build's sandbox, which may write only this environment's folder. */
        List<String> command(List<String> command) {
            return sandbox.command(command, checkout, Sandbox.Mounts.of(hostPaths, List.of(dir)));
        }

        /** A host program the steps run: its folder joins what the sandbox sees. */
        Path hostTool(Path executable) {
            Sandbox.hostPrefix(executable).filter(p -> !hostPaths.contains(p)).ifPresent(hostPaths::add);
            return executable;
        }

        void run(List<String> command, Path prefix, IntFunction<String> failure, int status) throws IOException {
            run(command, prefix, failure, status, null);
        }

        /**
         * A pip step: when it fails and its output shows that the package index could not be reached, the failure
         * says that (the names in {@code file} are not what is wrong) instead of {@code failure}'s sentence.
         */
        void pip(List<String> command, Path prefix, String file, IntFunction<String> failure, int status)
                throws IOException {
            run(command, prefix, failure, status, file);
        }

        private void run(List<String> command, Path prefix, IntFunction<String> failure, int status, String pipFile)
                throws IOException {
            checkCancelled(ctx);
            boolean[] diskFull = {false};
            boolean[] unreachable = {false};
            ProcessRunner.Result r = ProcessRunner.run(
                    command(command),
                    checkout,
                    env(prefix),
                    line -> {
                        diskFull[0] |= line.contains(NO_SPACE);
                        unreachable[0] |= pipFile != null && PackageIndex.unreachable(line);
                        out.line(line);
                    },
                    ctx::cancelled);
            checkCancelled(ctx);
            if (r.exitCode() != 0 && diskFull[0]) {
                throw new BuildFailedException(507, DISK_FULL);
            }
            if (r.exitCode() != 0 && unreachable[0]) {
                throw new BuildFailedException(503, PackageIndex.message(pipFile));
            }
            if (r.exitCode() != 0) {
                throw new BuildFailedException(status, failure.apply(r.exitCode()) + killedBy(r.exitCode()));
            }
        }
    }

    /**
     * What repo2docker's images give every step and server: {@code REPO_DIR} (the repository's folder, which is also
     * the home here) and {@code ~/.local/bin} and {@code ${REPO_DIR}/.local/bin} first on the PATH, so that
     * postBuild, start and notebooks written for mybinder.org find what they expect.
     */
    static void repo2dockerVariables(Map<String, String> env, Path repoDir) {
        env.put("REPO_DIR", repoDir.toString());
        String local = repoDir.resolve(".local").resolve("bin").toString();
        // $HOME and $REPO_DIR are the same folder here: one entry stands for both.
        env.put("PATH", local + File.pathSeparator + env.get("PATH"));
    }

    /** For a step that died of a signal (exit code 128 + n): which, and what to do. */
    static String killedBy(int exitCode) {
        if (exitCode <= 128 || exitCode > 128 + 64) {
            return "";
        }
        int signal = exitCode - 128;
        return " The step was killed by signal " + signal
                + (signal == 9
                        ? " (SIGKILL; when nobody stopped it by hand, this is usually the out-of-memory killer)"
                        : "")
                + "; launch again to build anew.";
    }

    private Environment buildInto(Path dir, BuildContext ctx) throws Exception {
        ResolvedRepo repo = ctx.repo();
        Steps s = new Steps(ctx, dir);

        if (repo.isArchive()) {
            fetchRecord(repo, s);
        } else {
            s.out.phase(
                    Phase.FETCHING,
                    "Fetching " + repo.spec().displayUrl() + " at "
                            + repo.commit().substring(0, 12) + "...\n");
            GuardedUrl url = git.guard().check(repo.repoUrl());
            try (Git local = Git.init()
                    .setDirectory(s.checkout.toFile())
                    .setInitialBranch("main")
                    .call()) {
                git.fetchCommit(local.getRepository(), url, repo, monitor(ctx));
                checkout.checkout(local.getRepository(), repo.commit());
            }
            LocalLayout.deleteTree(s.checkout.resolve(".git").resolve("refs").resolve("ferry"));
        }
        checkCancelled(ctx);

        BuildPlan plan = detector.detect(s.checkout);
        s.out.phase(
                Phase.BUILDING,
                "Building the environment (" + plan.buildpack()
                        + (plan.files().isEmpty() ? "" : ": " + String.join(", ", plan.files())) + ")...\n");
        plan.warnings().forEach(w -> s.out.line("Warning: " + w));
        Files.createDirectories(layout.pipCache());
        reportMissingAptPackages(plan, s.out);

        Path serverPython = switch (plan.buildpack()) {
            case DOCKER ->
                throw new BuildFailedException(
                        422,
                        "This repository is built from its own Dockerfile ("
                                + plan.inConfigDir("Dockerfile")
                                + "), which the local platform cannot run: it runs notebooks as "
                                + "processes, not containers." + KUBERNETES_HINT);
            case S2I ->
                throw new BuildFailedException(
                        422,
                        "This repository is built with a source-to-image builder, "
                                + "which the local platform cannot run." + KUBERNETES_HINT);
            case NIX ->
                throw new BuildFailedException(
                        422,
                        "This repository describes its environment with Nix "
                                + "(" + plan.inConfigDir("default.nix")
                                + "); the local platform does not run Nix environments."
                                + KUBERNETES_HINT);
            case CONDA -> conda(plan, s);
            default -> virtualEnvironment(plan, s);
        };
        JupyterApp app = ensureJupyter(s, serverPython);

        switch (plan.buildpack()) {
            case R -> rKernel(plan, s);
            case JULIA -> juliaKernel(plan, s);
            default -> {}
        }

        Path prefix = serverPython.getParent().getParent();
        if (plan.postBuild().isPresent()) {
            Path postBuild = s.checkout.resolve(plan.postBuild().get());
            s.out.line("Running " + plan.postBuild().get());
            LocalLayout.makeExecutable(dir, postBuild);
            s.run(
                    List.of(postBuild.toString()),
                    prefix,
                    code -> "The repository's postBuild script failed (exit code " + code
                            + "). Its output is in the log.",
                    422);
        }

        new LocalEnvironment(serverPython, app, plan.start(), s.extraEnv, s.hostPaths)
                .write(dir.resolve(LocalLayout.ENV_MARKER), repo.commit());
        s.out.line("Environment ready (" + plan.buildpack() + ", " + app + ")");
        return environment(ctx.key());
    }

    /** Downloads the record's files (and unpacks a single archive) where a git checkout would go. */
    private void fetchRecord(ResolvedRepo repo, Steps s) {
        if (records == null) {
            throw new BuildFailedException(501, "This Ferry is not set up to fetch research archives.");
        }
        s.out.phase(
                Phase.FETCHING,
                "Fetching " + repo.spec().displayUrl() + " (version "
                        + Urls.printable(repo.archive().version()) + ")...\n");
        records.fetchInto(repo.archive(), s.checkout, s.out::line);
    }

    /** A virtual environment for python, pipfile, R and Julia repositories (Jupyter lives in it). */
    private Path virtualEnvironment(BuildPlan plan, Steps s) throws IOException {
        PythonFinder.Python interpreter = python.find();
        Path executable = interpreter.executable();
        if (plan.python().isPresent() && plan.buildpack().pip()) {
            String wanted = plan.python().get();
            String askedIn = plan.buildpack() == Buildpack.PYTHON ? plan.inConfigDir("runtime.txt") : "the Pipfile";
            // Among the host's pythonX.Y that run (a pyenv shim for a version that is not installed is on the PATH
            // but does not), prefer one that already has Jupyter (as for the default interpreter).
            List<Path> candidates = HostTools.findAll("python" + wanted);
            List<Path> running = candidates.stream().filter(PythonFinder::runs).toList();
            Optional<Path> exact = running.stream()
                    .filter(PythonFinder::importsJupyter)
                    .findFirst()
                    .or(() -> running.stream().findFirst());
            if (exact.isPresent()) {
                executable = exact.get();
                s.out.line("Using Python " + wanted + " as " + askedIn + " asks (" + executable + ")");
            } else {
                s.out.line("Warning: the repository asks for Python " + wanted
                        + ", which this Ferry server does not have "
                        + "(" + askedIn + "). " + PythonFinder.notFound("python" + wanted, candidates) + " Using "
                        + executable + " instead; the kubernetes platform installs the version asked for.");
            }
        }
        s.hostTool(executable);
        List<String> command = new ArrayList<>(List.of(executable.toString(), "-m", "venv"));
        if (systemSitePackages) {
            command.add("--system-site-packages");
        }
        command.add(s.venv.toString());
        s.out.line("Creating a Python virtual environment with " + executable);
        Path creator = executable;
        s.run(
                command,
                null,
                code -> "Creating the Python virtual environment with " + creator + " failed (exit code " + code
                        + "). On Debian/Ubuntu, the Ferry server needs the python3-venv package.",
                500);
        Path venvPython = s.venv.resolve("bin").resolve("python");

        if (plan.buildpack() == Buildpack.PIPFILE) {
            pipfile(plan, s, venvPython);
        } else if (plan.buildpack() == Buildpack.PYTHON) {
            String requirements = plan.inConfigDir("requirements.txt");
            if (plan.files().contains(requirements)) {
                installRequirements(s, venvPython, requirements, "");
            }
            if (plan.serverRequirements().isPresent()) {
                // repo2docker puts requirements3.txt into the notebook server's environment beside a legacy kernel;
                // here the server and the kernel share this one
                installRequirements(
                        s, venvPython, plan.serverRequirements().get(), " (for the notebook server's environment)");
            }
            if (plan.installPackage()) {
                String what = plan.files().contains("setup.py") ? "setup.py" : "pyproject.toml";
                s.out.line("Installing the repository itself (pip install -e .)");
                s.pip(
                        List.of(venvPython.toString(), "-m", "pip", "install", "-e", s.checkout.toString()),
                        s.venv,
                        what,
                        code -> "Installing the repository as a package failed (pip exited with " + code + "). Check "
                                + what + "; pip's error is in the log.",
                        422);
            }
        }
        return venvPython;
    }

    /** {@code pip install -r <file>} into the environment; {@code note} follows the file's name in the log. */
    private static void installRequirements(Steps s, Path venvPython, String file, String note) throws IOException {
        s.out.line("Installing the packages listed in " + file + note);
        s.pip(
                List.of(
                        venvPython.toString(),
                        "-m",
                        "pip",
                        "install",
                        "-r",
                        s.checkout.resolve(file).toString()),
                s.venv,
                file,
                code -> "Installing the packages in " + file + " failed (pip exited with " + code
                        + "). Check the package names and versions in " + file + "; pip's error is in the log.",
                422);
    }

    /**
     * A Pipfile's packages, installed with pip into the environment: from {@code pipenv requirements} when there is a
     * Pipfile.lock (what it pins), otherwise from the Pipfile itself, which Ferry reads (pipenv needs a lock for that).
     */
    private void pipfile(BuildPlan plan, Steps s, Path venvPython) throws IOException {
        String lock = plan.inConfigDir("Pipfile.lock");
        String pipfile = plan.inConfigDir("Pipfile");
        Path requirements = s.venv.resolve("pipfile-requirements.txt");
        String used;
        if (plan.files().contains(lock)) {
            used = lock;
            LocalLayout.writeInside(s.venv, requirements, lockedRequirements(plan, s, venvPython));
        } else {
            used = pipfile;
            s.out.line("No Pipfile.lock: installing what " + pipfile + " lists ([packages] and [dev-packages])");
            LocalLayout.writeInside(
                    s.venv, requirements, PipfileRequirements.read(s.checkout.resolve(pipfile), s.checkout, pipfile));
        }
        s.out.line("Installing the packages of " + used);
        // Relative paths in a Pipfile ({path = "."}) are relative to the Pipfile's folder, as with pipenv.
        s.pip(
                List.of(venvPython.toString(), "-m", "pip", "install", "-r", requirements.toString()),
                s.venv,
                used,
                code -> "Installing the packages of " + used + " failed (pip exited with " + code + "); pip's error is "
                        + "in the log.",
                422);
    }

    /** {@code pipenv requirements --dev}: the pins of Pipfile.lock as pip requirements. */
    private String lockedRequirements(BuildPlan plan, Steps s, Path venvPython) throws IOException {
        Path pipenv = HostTools.find("pipenv").map(s::hostTool).orElse(null);
        if (pipenv == null) {
            s.out.line("Installing pipenv into the environment");
            s.pip(
                    List.of(venvPython.toString(), "-m", "pip", "install", "pipenv"),
                    s.venv,
                    "pipenv",
                    code -> "This repository has a Pipfile.lock, which needs pipenv; it is not installed on the Ferry "
                            + "server and could not be installed (pip exited with " + code
                            + "). Install pipenv on the server.",
                    500);
            pipenv = s.venv.resolve("bin").resolve("pipenv");
        }
        Map<String, String> pipenvEnv = s.env(s.venv);
        pipenvEnv.put(
                "PIPENV_PIPFILE",
                s.checkout.resolve(plan.inConfigDir("Pipfile")).toString());
        pipenvEnv.put("PIPENV_VERBOSITY", "-1");
        HeadAndTail<String> lines = boundedOutput(s.out);
        ProcessRunner.Result r = ProcessRunner.run(
                s.command(List.of(pipenv.toString(), "requirements", "--dev")),
                s.checkout,
                pipenvEnv,
                line -> addSynchronized(lines, line),
                s.out::line,
                s.ctx::cancelled);
        checkCancelled(s.ctx);
        List<String> kept = keptLines(lines);
        if (r.exitCode() != 0) {
            kept.forEach(s.out::line);
            throw new BuildFailedException(
                    422,
                    "Reading " + plan.inConfigDir("Pipfile.lock") + " with pipenv failed (exit " + "code "
                            + r.exitCode() + "); pipenv's error is in the log. Recreate the lock with pipenv lock.");
        }
        if (lines.dropped() > 0) {
            throw new BuildFailedException(
                    422,
                    "The Pipfile lists more packages than a build may install ("
                            + s.out.limits().maxLines() + " lines or "
                            + HeadAndTail.bytes(s.out.limits().maxBytes().toBytes())
                            + " of requirements). List fewer packages.");
        }
        return String.join(
                        "\n",
                        kept.stream()
                                .filter(l -> !l.isBlank() && !l.startsWith("-i "))
                                .toList()) + "\n";
    }

    /** A conda environment from environment.yml (or .yaml), made by micromamba, mamba or conda from the host. */
    private Path conda(BuildPlan plan, Steps s) throws IOException {
        String file = plan.condaFile().orElse(plan.inConfigDir("environment.yml"));
        Path tool = HostTools.findFirst("micromamba", "mamba", "conda")
                .map(s::hostTool)
                .orElseThrow(() -> new BuildFailedException(
                        422,
                        "This repository describes its environment in " + file + ", which needs "
                                + "conda. Install micromamba on the Ferry server (https://mamba.readthedocs.io), or use the "
                                + "kubernetes platform."));
        Path prefix = s.venv.getParent().resolve("conda");
        s.out.line("Creating the conda environment with " + tool.getFileName());
        // In a sandbox, a package cache of its own: a shared one would let one build plant packages for another.
        s.extraEnv.put(
                "MAMBA_ROOT_PREFIX",
                sandbox.isolated()
                        ? "/tmp/mamba"
                        : layout.root().resolve("cache").resolve("mamba").toString());
        s.run(
                List.of(
                        tool.toString(),
                        "env",
                        "create",
                        "--yes",
                        "--prefix",
                        prefix.toString(),
                        "--file",
                        s.checkout.resolve(file).toString()),
                null,
                code -> "Creating the conda environment from " + file + " failed (exit code " + code + "). Check the "
                        + "package names and channels; the error is in the log.",
                422);
        return prefix.resolve("bin").resolve("python");
    }

    private JupyterApp ensureJupyter(Steps s, Path serverPython) throws IOException {
        Path prefix = serverPython.getParent().getParent();
        Optional<JupyterApp> app = probeJupyter(s, serverPython, prefix);
        if (app.isEmpty()) {
            s.out.line("No Jupyter server in the environment: installing notebook");
            s.pip(
                    List.of(serverPython.toString(), "-m", "pip", "install", "notebook", "ipykernel"),
                    prefix,
                    "Jupyter (notebook and ipykernel)",
                    code -> "Installing Jupyter into the environment failed (pip exited with " + code + "). The Ferry "
                            + "server needs access to a package index, or a Python with Jupyter (set ferry.local.python).",
                    500);
            app = probeJupyter(s, serverPython, prefix);
            if (app.isEmpty()) {
                throw new BuildFailedException(
                        500, "Jupyter was installed but cannot be started from the environment.");
            }
        }
        // The environment's own kernelspec, so that kernels run with its Python and see its packages (a host-wide
        // python3 kernelspec, such as Debian's, would otherwise win and run the host's Python).
        s.run(
                List.of(
                        serverPython.toString(),
                        "-m",
                        "ipykernel",
                        "install",
                        "--sys-prefix",
                        "--name",
                        "python3",
                        "--display-name",
                        "Python 3 (ipykernel)"),
                prefix,
                code -> "Registering the environment's Python kernel with Jupyter failed (exit code " + code + ").",
                500);
        return app.get();
    }

    /** R with IRkernel from the host; packages of install.R and DESCRIPTION into the environment's own library. */
    private void rKernel(BuildPlan plan, Steps s) throws IOException {
        Path rscript = HostTools.find("Rscript")
                .map(s::hostTool)
                .orElseThrow(
                        () -> new BuildFailedException(
                                422,
                                "This repository needs R ("
                                        + String.join(", ", plan.files())
                                        + "), which is not installed on this Ferry server. Install R with "
                                        + "IRkernel (Debian/Ubuntu: apt install r-base-core r-cran-irkernel), or use the kubernetes platform."));
        plan.r()
                .ifPresent(v ->
                        s.out.line("Note: the repository asks for R " + v + "; the local platform uses the host's R."));
        Path library = s.venv.getParent().resolve("rlib");
        Files.createDirectories(library);
        s.extraEnv.put("R_LIBS_USER", library.toString());
        s.run(
                List.of(
                        rscript.toString(),
                        "-e",
                        "if (!requireNamespace('IRkernel', quietly = TRUE)) "
                                + "install.packages('IRkernel', repos = 'https://cloud.r-project.org')"),
                s.venv,
                code -> "IRkernel, the R kernel for Jupyter, is not installed on this Ferry server and could not be "
                        + "installed. Install it (Debian/Ubuntu: apt install r-cran-irkernel).",
                500);
        Path r = s.hostTool(HostTools.find("R").orElse(rscript.resolveSibling("R")));
        Path spec =
                s.venv.resolve("share").resolve("jupyter").resolve("kernels").resolve("ir");
        LocalLayout.writeInside(
                s.venv,
                spec.resolve("kernel.json"),
                "{\"argv\": [" + jsonString(r.toString())
                        + ", \"--slave\", \"-e\", \"IRkernel::main()\", \"--args\", \"{connection_file}\"], "
                        + "\"display_name\": \"R\", \"language\": \"R\"}\n");
        s.out.line("Registered the R kernel (IRkernel) in the environment");
        if (plan.files().contains("DESCRIPTION")) {
            // repo2docker installs a DESCRIPTION's package with R's remotes; the host's R may not have it.
            s.out.line("Installing the R package described by DESCRIPTION with remotes::install_local");
            s.run(
                    List.of(
                            rscript.toString(),
                            "-e",
                            "if (!requireNamespace('remotes', quietly = TRUE)) { "
                                    + "message('remotes is not installed: installing it from CRAN'); "
                                    + "install.packages('remotes', repos = 'https://cloud.r-project.org') }"),
                    s.venv,
                    code ->
                            "This repository's DESCRIPTION is installed with R's remotes package, which is not installed "
                                    + "on this Ferry server and could not be installed from CRAN. Install it (Debian/Ubuntu: apt "
                                    + "install r-cran-remotes).",
                    500);
            s.run(
                    List.of(rscript.toString(), "-e", "remotes::install_local('.', upgrade = 'never')"),
                    s.venv,
                    code -> "Installing the R package described by DESCRIPTION failed (exit code " + code
                            + "); R's error " + "is in the log.",
                    422);
        }
        String installR = plan.inConfigDir("install.R");
        if (plan.files().contains(installR)) {
            s.out.line("Running " + installR);
            s.run(
                    List.of(rscript.toString(), s.checkout.resolve(installR).toString()),
                    s.venv,
                    code -> "The repository's install.R failed (exit code " + code + "). Its output is in the log.",
                    422);
        }
    }

    /** Julia from the host: the project's packages and IJulia in the environment's own depot. */
    private void juliaKernel(BuildPlan plan, Steps s) throws IOException {
        Path julia = HostTools.find("julia")
                .map(s::hostTool)
                .orElseThrow(() -> new BuildFailedException(
                        422,
                        "This repository needs Julia ("
                                + String.join(", ", plan.files())
                                + "), which is not installed on this Ferry server. Install Julia "
                                + "(https://julialang.org/downloads), or use the kubernetes platform."));
        Path depot = s.venv.getParent().resolve("julia");
        Path project = plan.configDir().isEmpty() ? s.checkout : s.checkout.resolve(plan.configDir());
        s.extraEnv.put("JULIA_DEPOT_PATH", depot.toString());
        s.extraEnv.put("JULIA_PROJECT", project.toString());
        s.extraEnv.put(
                "JUPYTER_DATA_DIR", s.venv.resolve("share").resolve("jupyter").toString());
        s.run(
                List.of(
                        julia.toString(),
                        "-e",
                        "using Pkg; Pkg.instantiate(); Pkg.add(\"IJulia\"); using IJulia; "
                                + "installkernel(\"Julia\")"),
                s.venv,
                code -> "Installing the Julia project and IJulia failed (exit code " + code
                        + "); the error is in the log.",
                422);
        s.extraEnv.remove("JUPYTER_DATA_DIR");
    }

    private static String jsonString(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private void reportMissingAptPackages(BuildPlan plan, BuildLog out) {
        if (plan.aptPackages().isEmpty()) {
            return;
        }
        Optional<Path> dpkg = HostTools.find("dpkg-query");
        List<String> missing = new ArrayList<>();
        for (String pkg : plan.aptPackages()) {
            String name = pkg.contains("=") ? pkg.substring(0, pkg.indexOf('=')) : pkg;
            if (dpkg.isEmpty() || !installed(dpkg.get(), name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            out.line(
                    "Warning: apt.txt asks for " + String.join(", ", missing) + ", not installed on this Ferry server. "
                            + "The local platform cannot install system packages (the kubernetes platform does); the notebooks "
                            + "may fail where they need them.");
        }
    }

    private static boolean installed(Path dpkgQuery, String name) {
        try {
            Process p = new ProcessBuilder(dpkgQuery.toString(), "-W", "-f=${Status}", name)
                    .redirectErrorStream(true)
                    .start();
            String status = new String(p.getInputStream().readAllBytes());
            return p.waitFor() == 0 && status.contains("install ok installed");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Optional<JupyterApp> probeJupyter(Steps s, Path pythonExe, Path prefix) throws IOException {
        HeadAndTail<String> lines = boundedOutput(s.out);
        ProcessRunner.Result r = ProcessRunner.run(
                s.command(List.of(pythonExe.toString(), "-c", JUPYTER_PROBE)),
                s.checkout,
                s.env(prefix),
                line -> addSynchronized(lines, line),
                s.ctx::cancelled);
        List<String> output = keptLines(lines);
        checkCancelled(s.ctx);
        if (r.exitCode() != 0 || output.isEmpty()) {
            output.forEach(s.out::line);
            throw new BuildFailedException(
                    500, "The environment's Python does not start (exit code " + r.exitCode() + ").");
        }
        return JupyterApp.named(output.get(output.size() - 1).trim());
    }

    /** Output a step's caller reads itself, bounded like the build log (its start and end kept). */
    private static HeadAndTail<String> boundedOutput(BuildLog log) {
        return new HeadAndTail<>(
                log.limits().maxLines(), log.limits().maxBytes().toBytes(), HeadAndTail::utf8Length);
    }

    private static void addSynchronized(HeadAndTail<String> lines, String line) {
        synchronized (lines) {
            lines.add(line);
        }
    }

    /** The kept lines, with one saying how many were not kept in their place. */
    private static List<String> keptLines(HeadAndTail<String> lines) {
        synchronized (lines) {
            List<String> kept = new ArrayList<>(lines.head());
            if (lines.dropped() > 0) {
                kept.add(HeadAndTail.notShown(lines.dropped(), lines.droppedBytes()));
            }
            kept.addAll(lines.tail());
            return kept;
        }
    }

    private static void checkCancelled(BuildContext ctx) {
        if (ctx.cancelled()) {
            throw new BuildFailedException(504, "The build was stopped.");
        }
    }

    private static ProgressMonitor monitor(BuildContext ctx) {
        return new ProgressMonitor() {
            private String task;
            private int total;
            private int done;

            @Override
            public void start(int totalTasks) {}

            @Override
            public void beginTask(String title, int totalWork) {
                task = title;
                total = totalWork;
                done = 0;
            }

            @Override
            public void update(int completed) {
                done += completed;
            }

            @Override
            public void endTask() {
                if (task != null) {
                    ctx.log().line(task + ": " + (total > 0 ? done + "/" + total : done) + ", done.");
                }
                task = null;
            }

            @Override
            public boolean isCancelled() {
                return ctx.cancelled();
            }

            @Override
            public void showDuration(boolean enabled) {}
        };
    }
}
