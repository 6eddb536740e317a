package dev.ferry.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * The real parts tests need from the machine (Debian's Jupyter, npm modules, a registry, kubectl). A test that needs a missing
 * part is skipped with a message naming it — except under {@code CI=true}, where {@code .ci/run} installs every part
 * and a missing one is a failure.
 */
public final class Parts {

    public static final Path SYSTEM_PYTHON = Path.of("/usr/bin/python3");
    private static Boolean jupyter;

    private Parts() {}

    public static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Debian's python3 with notebook and ipykernel importable. */
    public static synchronized void requireJupyter() {
        if (jupyter == null) {
            jupyter = Files.isExecutable(SYSTEM_PYTHON)
                    && exitsZero(SYSTEM_PYTHON.toString(), "-c", "import notebook, ipykernel, venv");
        }
        require(
                jupyter,
                "Jupyter from Debian's packages (apt-get install jupyter-notebook python3-notebook "
                        + "python3-ipykernel python3-venv)");
    }

    /** Debian's jupyter_server (the server JupyterLab and Notebook 7 run on). */
    public static void requireJupyterServer() {
        require(
                Files.isExecutable(SYSTEM_PYTHON) && exitsZero(SYSTEM_PYTHON.toString(), "-c", "import jupyter_server"),
                "jupyter_server from Debian's packages (apt-get install jupyter-server python3-jupyter-server)");
    }

    /** Debian's bubblewrap, which sandboxes local builds and sessions; returns the bwrap program. */
    public static Path requireBubblewrap() {
        Path bwrap = Path.of("/usr/bin/bwrap");
        require(
                Files.isExecutable(bwrap) && exitsZero(bwrap.toString(), "--version"),
                "bubblewrap (apt-get install bubblewrap)");
        return bwrap;
    }

    /** R with IRkernel (Debian: r-base-core r-cran-irkernel). */
    public static void requireR() {
        require(
                exitsZero("Rscript", "-e", "library(IRkernel)"),
                "R with IRkernel (apt-get install r-base-core r-cran-irkernel)");
    }

    /** R with IRkernel and remotes, which installs a DESCRIPTION's package (Debian: r-cran-remotes). */
    public static void requireRRemotes() {
        require(
                exitsZero("Rscript", "-e", "library(IRkernel); library(remotes)"),
                "R with IRkernel and remotes (apt-get install r-base-core r-cran-irkernel r-cran-remotes)");
    }

    /** pipenv (Debian: pipenv). */
    public static void requirePipenv() {
        require(exitsZero("pipenv", "--version"), "pipenv (apt-get install pipenv)");
    }

    /** Debian's Chromium and the npm modules of frontend/ (playwright-core, axe-core). */
    public static Path requireBrowser() {
        Path dir = Path.of("frontend").toAbsolutePath();
        boolean present = Files.isExecutable(Path.of("/usr/bin/chromium"))
                && Files.isDirectory(dir.resolve("node_modules").resolve("playwright-core"))
                && Files.isDirectory(dir.resolve("node_modules").resolve("axe-core"));
        require(present, "Chromium and the browser test modules (apt-get install chromium; cd frontend && npm ci)");
        return dir;
    }

    /** The npm modules of src/test/node (npm ci there). */
    public static Path requireNodeModules() {
        Path dir = Path.of("src", "test", "node").toAbsolutePath();
        boolean present = Files.isDirectory(
                        dir.resolve("node_modules").resolve("@jupyterlab").resolve("services"))
                && exitsZero("node", "--version");
        require(present, "node and the npm modules of src/test/node (cd src/test/node && npm ci)");
        return dir;
    }

    /** A real OCI registry and the tools that put an image into it without a container engine. */
    public static void requireRegistryTools() {
        for (String tool : new String[] {"docker-registry", "skopeo", "umoci"}) {
            require(
                    Files.isExecutable(Path.of("/usr/bin", tool)),
                    "/usr/bin/" + tool + " (apt-get install docker-registry skopeo umoci)");
        }
    }

    /** kubectl with its built-in kustomize (Debian: kubernetes-client); returns the command to run. */
    public static String requireKubectl() {
        String kubectl = Files.isExecutable(Path.of("/usr/bin/kubectl")) ? "/usr/bin/kubectl" : "kubectl";
        require(exitsZero(kubectl, "version", "--client"), "kubectl (apt-get install kubernetes-client)");
        return kubectl;
    }

    /** git's own daemon for git:// (Debian: git). */
    public static void requireGitDaemon() {
        require(
                exitsZero("git", "daemon", "--help") || Files.isExecutable(Path.of("/usr/lib/git-core/git-daemon")),
                "git daemon (apt-get install git)");
    }

    private static void require(boolean present, String what) {
        if (!present && ci()) {
            throw new AssertionError("CI=true but this machine lacks " + what + "; .ci/run should have installed it");
        }
        Assumptions.assumeTrue(present, "skipped: this machine lacks " + what);
    }

    static boolean exitsZero(String... command) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
