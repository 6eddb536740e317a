package dev.ferry.platform.local;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ProgressMonitor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.build.BuildContext;
import dev.ferry.build.BuildFailedException;
import dev.ferry.build.BuildLog;
import dev.ferry.build.Builder;
import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.repo.GuardedUrl;
import dev.ferry.repo.RemoteGit;
import dev.ferry.repo.ResolvedRepo;

/**
 * Builds an environment on this machine: JGit fetches exactly the commit into {@code envs/<key>/repo}, a Python
 * virtual environment is created in {@code envs/<key>/venv}, {@code requirements.txt} is installed with its pip,
 * Jupyter is installed when the interpreter has none, and {@code postBuild} runs. The marker file is written last;
 * a failed or cancelled build leaves no directory behind.
 */
final class LocalEnvBuilder implements Builder {

    private static final Logger log = LoggerFactory.getLogger(LocalEnvBuilder.class);

    /** Prints which Jupyter application the environment can run, best first. */
    static final String JUPYTER_PROBE = String.join("\n",
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

    private final LocalLayout layout;
    private final RemoteGit git;
    private final PythonFinder python;
    private final boolean systemSitePackages;

    LocalEnvBuilder(LocalLayout layout, RemoteGit git, PythonFinder python, boolean systemSitePackages) {
        this.layout = layout;
        this.git = git;
        this.python = python;
        this.systemSitePackages = systemSitePackages;
    }

    @Override
    public Optional<Environment> findBuilt(ImageKey key) {
        Path marker = layout.envDir(key).resolve(LocalLayout.ENV_MARKER);
        if (Files.isRegularFile(marker)) {
            return Optional.of(environment(key));
        }
        return Optional.empty();
    }

    static Environment environment(ImageKey key) {
        return new Environment(key, "ferry-local/" + key.slug() + ":" + key.commit());
    }

    /** The Jupyter application recorded for a built environment ({@code notebook6}, {@code lab}, …). */
    String jupyterApp(ImageKey key) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(layout.envDir(key).resolve(LocalLayout.ENV_MARKER))) {
            p.load(in);
        } catch (IOException e) {
            throw new BuildFailedException(500, "The environment for this commit is damaged; it will be rebuilt on the next launch.");
        }
        return p.getProperty("jupyter.app", "notebook6");
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
        } finally {
            if (!done) {
                LocalLayout.deleteTree(dir);
            }
        }
    }

    private Environment buildInto(Path dir, BuildContext ctx) throws Exception {
        ResolvedRepo repo = ctx.repo();
        BuildLog out = ctx.log();
        Path checkout = dir.resolve("repo");
        Path venv = dir.resolve("venv");

        out.phase("fetching", "Fetching " + repo.spec().displayUrl() + " at " + repo.commit().substring(0, 12) + "...\n");
        GuardedUrl url = git.guard().check(repo.repoUrl());
        try (Git local = Git.init().setDirectory(checkout.toFile()).setInitialBranch("main").call()) {
            git.fetchCommit(local.getRepository(), url, repo, monitor(ctx));
            local.checkout().setName(repo.commit()).call();
        }
        LocalLayout.deleteTree(checkout.resolve(".git").resolve("refs").resolve("ferry"));
        checkCancelled(ctx);

        out.phase("building", "Building the environment...\n");
        Path binderDir = binderDir(checkout);
        PythonFinder.Python interpreter = python.find();
        Map<String, String> env = layout.childEnvironment(checkout, venv);
        Files.createDirectories(layout.pipCache());

        List<String> venvCommand = new ArrayList<>(List.of(interpreter.executable().toString(), "-m", "venv"));
        if (systemSitePackages) {
            venvCommand.add("--system-site-packages");
        }
        venvCommand.add(venv.toString());
        out.line("Creating a Python virtual environment with " + interpreter.executable());
        step(ctx, venvCommand, checkout, layout.childEnvironment(checkout, null),
                code -> "Creating the Python virtual environment failed (exit code " + code + "). On Debian/Ubuntu, "
                        + "the Ferry server needs the python3-venv package.", 500);

        Path pythonExe = venv.resolve("bin").resolve("python");
        Path requirements = binderDir.resolve("requirements.txt");
        if (Files.isRegularFile(requirements, LinkOption.NOFOLLOW_LINKS)) {
            out.line("Installing the packages listed in " + checkout.relativize(requirements));
            step(ctx, List.of(pythonExe.toString(), "-m", "pip", "install", "-r", requirements.toString()), checkout, env,
                    code -> "Installing the packages in requirements.txt failed (pip exited with " + code + "). "
                            + "Check the package names and versions in requirements.txt; pip's error is in the log.", 422);
        }

        String app = probeJupyter(ctx, pythonExe, checkout, env);
        if (app.equals("none")) {
            out.line("No Jupyter server in the environment: installing notebook");
            step(ctx, List.of(pythonExe.toString(), "-m", "pip", "install", "notebook"), checkout, env,
                    code -> "Installing Jupyter into the environment failed (pip exited with " + code + "). The Ferry "
                            + "server needs access to a package index, or a Python with Jupyter (set ferry.local.python).", 500);
            app = probeJupyter(ctx, pythonExe, checkout, env);
            if (app.equals("none")) {
                throw new BuildFailedException(500, "Jupyter was installed but cannot be started from the environment.");
            }
        }

        Path postBuild = binderDir.resolve("postBuild");
        if (Files.isRegularFile(postBuild, LinkOption.NOFOLLOW_LINKS)) {
            out.line("Running " + checkout.relativize(postBuild));
            postBuild.toFile().setExecutable(true, true);
            step(ctx, List.of(postBuild.toString()), checkout, env,
                    code -> "The repository's postBuild script failed (exit code " + code + "). Its output is in the log.", 422);
        }

        Properties marker = new Properties();
        marker.setProperty("jupyter.app", app);
        marker.setProperty("python", interpreter.executable().toString());
        marker.setProperty("commit", repo.commit());
        marker.setProperty("built", Instant.now().toString());
        try (Writer w = Files.newBufferedWriter(dir.resolve(LocalLayout.ENV_MARKER), StandardCharsets.UTF_8)) {
            marker.store(w, "complete Ferry environment");
        }
        out.line("Environment ready (" + app + ")");
        return environment(ctx.key());
    }

    /** {@code binder/} or {@code .binder/} when present (the only place looked at then), else the repository root. */
    static Path binderDir(Path checkout) {
        Path binder = checkout.resolve("binder");
        Path dotBinder = checkout.resolve(".binder");
        boolean hasBinder = Files.isDirectory(binder, LinkOption.NOFOLLOW_LINKS);
        boolean hasDotBinder = Files.isDirectory(dotBinder, LinkOption.NOFOLLOW_LINKS);
        if (hasBinder && hasDotBinder) {
            throw new BuildFailedException(422, "The repository has both a binder/ and a .binder/ folder; keep only one.");
        }
        return hasBinder ? binder : hasDotBinder ? dotBinder : checkout;
    }

    private String probeJupyter(BuildContext ctx, Path pythonExe, Path cwd, Map<String, String> env) throws IOException {
        List<String> output = new ArrayList<>();
        ProcessRunner.Result r = ProcessRunner.run(List.of(pythonExe.toString(), "-c", JUPYTER_PROBE), cwd, env, output::add,
                ctx::cancelled);
        checkCancelled(ctx);
        if (r.exitCode() != 0 || output.isEmpty()) {
            output.forEach(ctx.log()::line);
            throw new BuildFailedException(500, "The environment's Python does not start (exit code " + r.exitCode() + ").");
        }
        return output.get(output.size() - 1).trim();
    }

    private void step(BuildContext ctx, List<String> command, Path cwd, Map<String, String> env,
                      java.util.function.IntFunction<String> failure, int status) throws IOException {
        checkCancelled(ctx);
        ProcessRunner.Result r = ProcessRunner.run(command, cwd, env, ctx.log()::line, ctx::cancelled);
        checkCancelled(ctx);
        if (r.exitCode() != 0) {
            throw new BuildFailedException(status, failure.apply(r.exitCode()));
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

            public void start(int totalTasks) {
            }

            public void beginTask(String title, int totalWork) {
                task = title;
                total = totalWork;
                done = 0;
            }

            public void update(int completed) {
                done += completed;
            }

            public void endTask() {
                if (task != null) {
                    ctx.log().line(task + ": " + (total > 0 ? done + "/" + total : done) + ", done.");
                }
                task = null;
            }

            public boolean isCancelled() {
                return ctx.cancelled();
            }

            public void showDuration(boolean enabled) {
            }
        };
    }
}
