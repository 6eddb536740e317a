package dev.ferry.platform.local;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.build.BuildFailedException;

/**
 * Chooses the interpreter environments are made from: {@code ferry.local.python} when set, otherwise the first
 * {@code python3} on the PATH that can import a Jupyter server (so that {@code --system-site-packages} environments
 * see it), otherwise the first {@code python3} at all.
 */
final class PythonFinder {

    private static final Logger log = LoggerFactory.getLogger(PythonFinder.class);

    /** An interpreter, and whether it can import a Jupyter server by itself. */
    record Python(Path executable, boolean hasJupyter) {}

    private final String configured;
    private volatile Python found;

    PythonFinder(String configured) {
        this.configured = configured == null ? "" : configured.trim();
    }

    Python find() {
        Python result = found;
        if (result == null) {
            synchronized (this) {
                if (found == null) {
                    found = search();
                    log.info(
                            "local environments use {} ({})",
                            found.executable(),
                            found.hasJupyter() ? "Jupyter found" : "no Jupyter: it is installed into each environment");
                }
                result = found;
            }
        }
        return result;
    }

    private Python search() {
        if (!configured.isEmpty()) {
            Path exe = Path.of(configured);
            if (!Files.isExecutable(exe) || !runs(exe)) {
                throw new BuildFailedException(
                        500,
                        "The Python interpreter set in ferry.local.python (" + configured
                                + ") is not an executable file that runs. Fix the setting or remove it to use python3 from the PATH.");
            }
            return new Python(exe, importsJupyter(exe));
        }
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path exe = Path.of(dir.isEmpty() ? "." : dir, "python3");
            // a pyenv shim for a version that is not installed is on the PATH but does not run
            if (Files.isExecutable(exe) && runs(exe)) {
                candidates.add(exe);
            }
        }
        for (Path exe : candidates) {
            if (importsJupyter(exe)) {
                return new Python(exe, true);
            }
        }
        if (candidates.isEmpty()) {
            throw new BuildFailedException(
                    500,
                    "No python3 was found on the PATH of the Ferry server. Install Python 3 "
                            + "with Jupyter (on Debian/Ubuntu: apt install python3-venv jupyter-notebook) or set ferry.local.python.");
        }
        return new Python(candidates.get(0), false);
    }

    /** Whether the interpreter starts at all ({@code --version}); a pyenv shim for a missing version exits 127. */
    static boolean runs(Path exe) {
        return succeeds(exe.toString(), "--version");
    }

    /**
     * Where {@code name} was looked for and why none was used: no such program in any folder of the PATH, or the
     * ones found (named) do not run.
     */
    static String notFound(String name, List<Path> found) {
        if (found.isEmpty()) {
            // the folders themselves go to the server's log, for the operator; the build log is the visitor's
            log.info(
                    "no {} in any folder of the PATH ({})",
                    name,
                    System.getenv().getOrDefault("PATH", ""));
            return "There is no " + name + " in any folder of the Ferry server's PATH.";
        }
        return "Looked for " + name + " on the Ferry server's PATH and found "
                + found.stream().map(Path::toString).collect(Collectors.joining(", "))
                + ", which does not run (a pyenv shim for a version "
                + "that is not installed does that).";
    }

    static boolean importsJupyter(Path exe) {
        return succeeds(
                exe.toString(),
                "-c",
                "import importlib.util as u, sys; "
                        + "sys.exit(0 if (u.find_spec('jupyter_server') or u.find_spec('notebook')) and u.find_spec('ipykernel') else 1)");
    }

    /** Whether the command exits 0 within 20 seconds (one that hangs is killed); its output is not needed. */
    private static boolean succeeds(String... command) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
