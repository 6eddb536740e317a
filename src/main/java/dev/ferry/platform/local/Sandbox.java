package dev.ferry.platform.local;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.Threads;

/**
 * Where repository code runs on the local platform: every build step and every notebook server is wrapped in a
 * bubblewrap ({@code bwrap}) sandbox with its own PID, IPC and UTS namespaces (all its processes die with it, and it
 * sees only its own in a fresh {@code /proc}), a user namespace mapping it to uid 1000 without capabilities, a read-only
 * view of the system (what in /etc other users could not read, such as password hashes and private keys, hidden), a
 * private {@code /tmp}, and of Ferry's work
 * dir only the folders it is given. The network is shared (sessions listen on loopback for the proxy).
 *
 * <p>The sandbox's environment is the one Ferry gives the {@code bwrap} process, which Ferry clears first: passing it
 * that way instead of with {@code --clearenv --setenv} keeps values such as a session's token out of {@code bwrap}'s
 * command line, which every user of the host can read.
 *
 * <p>With {@code ferry.local.sandbox=none} commands run as they are, as the user Ferry runs as.
 */
final class Sandbox {

    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

    /** The user repository code runs as inside the sandbox (BinderHub's {@code jovyan}). */
    static final int UID = 1000;

    static final String USER = "jovyan";
    private static final List<String> SYSTEM_DIRS =
            List.of("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");
    /** The host's account lists, readable by anyone but none of a sandbox's business (it gets Ferry's). */
    private static final List<String> HIDDEN_FILES = List.of("/etc/passwd-", "/etc/group-");

    static final String REFUSAL = "The local platform runs repository code in a bubblewrap sandbox, and %s. Install "
            + "bubblewrap (Debian/Ubuntu: apt install bubblewrap), or set ferry.local.bubblewrap to its path; only on a "
            + "machine whose users you trust, set ferry.local.sandbox=none to run repository code without isolation.";

    /** What one sandboxed process sees of the host besides the system: folders read-only, folders writable. */
    record Mounts(List<Path> readOnly, List<Path> writable) {
        static Mounts of(List<Path> readOnly, List<Path> writable) {
            return new Mounts(List.copyOf(readOnly), List.copyOf(writable));
        }
    }

    private final Path bwrap;
    private final boolean userNamespace;
    private final Path etc;
    private final Path jupyterConfig;

    private Sandbox(Path bwrap, boolean userNamespace, Path etc, Path jupyterConfig) {
        this.bwrap = bwrap;
        this.userNamespace = userNamespace;
        this.etc = etc;
        this.jupyterConfig = jupyterConfig;
    }

    /**
     * The sandbox the settings ask for, after checking that bubblewrap runs here: refuses (with a sentence naming the
     * package and the setting) when it does not, unless the operator chose {@code none}.
     */
    static Sandbox start(LocalProperties properties, LocalLayout layout) {
        Path dir = layout.sandboxDir();
        Path jupyterConfig = dir.resolve("jupyter");
        Path etc = dir.resolve("etc");
        try {
            writeFiles(etc, jupyterConfig);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "The local platform could not write its sandbox settings under " + dir + " ("
                            + e.getClass().getSimpleName() + "); check that ferry.local.work-dir is writable.",
                    e);
        }
        if (properties.sandbox() == LocalProperties.SandboxKind.NONE) {
            log.warn("ferry.local.sandbox=none: builds and notebook servers run WITHOUT isolation, as this user. "
                    + "Repository code can read this machine's files and Ferry's secrets and see other sessions. "
                    + "Only for a machine whose users you trust.");
            return new Sandbox(null, false, etc, jupyterConfig);
        }
        Path bwrap = findBubblewrap(properties.bubblewrap())
                .orElseThrow(() -> new IllegalStateException(String.format(
                        REFUSAL,
                        properties.bubblewrap().isBlank()
                                ? "bwrap was not found on the PATH"
                                : "ferry.local.bubblewrap (" + properties.bubblewrap()
                                        + ") is not an executable file")));
        String failure = probe(new Sandbox(bwrap, true, etc, jupyterConfig));
        if (failure == null) {
            log.info("local builds and sessions run in bubblewrap sandboxes ({}, user namespace)", bwrap);
            return new Sandbox(bwrap, true, etc, jupyterConfig);
        }
        if ("root".equals(System.getProperty("user.name"))) {
            // No user namespaces here: as root, bubblewrap still isolates, with every capability dropped.
            String withoutUserNs = probe(new Sandbox(bwrap, false, etc, jupyterConfig));
            if (withoutUserNs == null) {
                log.warn("user namespaces do not work here ({}); sandboxes run as root without capabilities", failure);
                return new Sandbox(bwrap, false, etc, jupyterConfig);
            }
        }
        throw new IllegalStateException(String.format(REFUSAL, "a test run of " + bwrap + " failed (" + failure + ")"));
    }

    private static Optional<Path> findBubblewrap(String configured) {
        if (!configured.isBlank()) {
            Path exe = Path.of(configured);
            return Files.isExecutable(exe) && !Files.isDirectory(exe) ? Optional.of(exe) : Optional.empty();
        }
        return HostTools.find("bwrap");
    }

    /** Runs {@code true} in the sandbox; null when it worked, else what went wrong. */
    private static String probe(Sandbox sandbox) {
        try {
            Process p = spawn(
                    new ProcessBuilder(sandbox.command(List.of("true"), Path.of("/"), Mounts.of(List.of(), List.of())))
                            .redirectErrorStream(true)
                            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))));
            p.getOutputStream().close();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "it did not finish within 20 seconds";
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.exitValue() == 0 ? null : "exit code " + p.exitValue() + (output.isEmpty() ? "" : ": " + output);
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * The identity files of the sandbox and the Jupyter configuration every session's server reads first: the
     * repository's own {@code .jupyter} is never read, and what its environment's {@code etc/jupyter} says about
     * authentication is overruled (that directory comes later in Jupyter's search path).
     */
    /**
     * For the classic notebook server (an environment without JupyterLab): mybinder.org's links open JupyterLab
     * ({@code /lab}, and {@code labpath} as {@code /doc/tree/<path>}); this sends them to the classic pages for the
     * same folder or file instead of a 404. The handlers are a module defined here, in the server's own configuration,
     * so nothing is installed into the environment and kernels never see it.
     */
    static final String CLASSIC_LAB_LINKS = String.join(
            "\n",
            "",
            "# mybinder.org links open JupyterLab (/lab, /lab/tree/<path>, /doc/tree/<path>); without it, the classic",
            "# pages for the same path answer them.",
            "import sys as _sys, types as _types",
            "def _ferry_lab_links():",
            "    from tornado import web",
            "    from notebook.utils import url_path_join, url_escape",
            "    class LabToTree(web.RequestHandler):",
            "        def get(self, path=''):",
            "            target = url_path_join(self.settings['base_url'], 'tree', url_escape(path.strip('/')))",
            "            query = self.request.query",
            "            self.redirect(target + ('?' + query if query else ''))",
            "    module = _types.ModuleType('ferry_lab_links')",
            "    module.default_handlers = [(r'/(?:lab|doc)/tree/(.*)', LabToTree), (r'/lab/?', LabToTree)]",
            "    return module",
            "import importlib.util as _util",
            "# a JupyterLab 1-2 running on this classic server serves /lab itself",
            "if _util.find_spec('jupyterlab') is None:",
            "    try:  # only the classic server (notebook < 7) has these modules and reads extra_services",
            "        _sys.modules['ferry_lab_links'] = _ferry_lab_links()",
            "        c.NotebookApp.extra_services = ['ferry_lab_links']",
            "    except ImportError:",
            "        pass",
            "");

    private static void writeFiles(Path etc, Path jupyterConfig) throws IOException {
        Files.createDirectories(etc);
        Files.createDirectories(jupyterConfig);
        Files.writeString(
                etc.resolve("passwd"),
                "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                        + USER + ":x:" + UID + ":" + UID + ":Ferry session:/tmp:/bin/sh\n"
                        + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\n" + USER + ":x:" + UID + ":\nnogroup:x:65534:\n");
        String pinned = String.join(
                "\n",
                "# Written by Ferry at every start; edits are lost. The session's server accepts only the token Ferry",
                "# gave it, whatever the repository's or its environment's configuration says.",
                "import os",
                "for app in (c.ServerApp, c.NotebookApp):",
                "    app.token = os.environ['JUPYTER_TOKEN']",
                "    app.password = ''",
                "    app.password_required = False",
                "    app.allow_password_change = False",
                "    app.disable_check_xsrf = False",
                "    app.allow_origin = ''",
                "    app.allow_origin_pat = ''",
                "    app.allow_credentials = False",
                "");
        Files.writeString(jupyterConfig.resolve("jupyter_server_config.py"), pinned);
        Files.writeString(jupyterConfig.resolve("jupyter_notebook_config.py"), pinned + CLASSIC_LAB_LINKS);
        // Jupyter would otherwise try to record an IPython-to-Jupyter migration in this read-only folder, and fail.
        Files.writeString(jupyterConfig.resolve("migrated"), "");
    }

    /** The one thread that starts every child process; see {@link #spawn}. */
    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(Threads.daemon("ferry-spawner"));

    /**
     * Starts a process from one thread that lives as long as Ferry. {@code bwrap --die-with-parent} kills the sandbox
     * when the thread that started it ends (the kernel's parent-death signal follows the thread, not the process), so
     * a process started from a pool thread that retires would die with it.
     */
    static Process spawn(ProcessBuilder builder) throws IOException {
        Future<Process> started = SPAWNER.submit(builder::start);
        try {
            return started.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // the process may start all the same, on the spawner thread that outlives it: nobody else could stop it
            SPAWNER.execute(() -> {
                try {
                    ProcessTree.stop(started.get().toHandle(), 2000);
                } catch (Exception notStarted) {
                    // it did not start
                }
            });
            throw new InterruptedIOException("interrupted while starting a process");
        }
    }

    /** Whether commands run in a sandbox (false: {@code ferry.local.sandbox=none}). */
    boolean isolated() {
        return bwrap != null;
    }

    /** Ferry's own Jupyter configuration folder, read-only for sessions. */
    Path jupyterConfigDir() {
        return jupyterConfig;
    }

    /** The command that runs {@code command} in {@code workDir} inside a sandbox that sees {@code mounts}. */
    List<String> command(List<String> command, Path workDir, Mounts mounts) {
        if (bwrap == null) {
            return command;
        }
        List<String> argv = new ArrayList<>(List.of(
                bwrap.toString(),
                "--die-with-parent",
                "--new-session",
                "--unshare-pid",
                "--unshare-ipc",
                "--unshare-uts",
                "--unshare-cgroup-try",
                "--hostname",
                "ferry"));
        if (userNamespace) {
            argv.addAll(List.of("--unshare-user", "--uid", Integer.toString(UID), "--gid", Integer.toString(UID)));
        } else {
            argv.addAll(List.of("--cap-drop", "ALL"));
        }
        systemMounts(argv);
        argv.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"));
        // Parents before children, so that a writable folder inside a read-only one stays writable.
        List<String[]> binds = new ArrayList<>();
        mounts.readOnly().forEach(p -> binds.add(new String[] {"--ro-bind", p.toString()}));
        binds.add(new String[] {"--ro-bind", jupyterConfig.toString()});
        mounts.writable().forEach(p -> binds.add(new String[] {"--bind", p.toString()}));
        binds.stream()
                .filter(b -> Files.exists(Path.of(b[1])))
                .sorted(Comparator.comparingInt(b -> Path.of(b[1]).getNameCount()))
                .forEach(b -> argv.addAll(List.of(b[0], b[1], b[1])));
        argv.addAll(List.of("--chdir", workDir.toString(), "--"));
        argv.addAll(command);
        return argv;
    }

    private void systemMounts(List<String> argv) {
        for (String dir : SYSTEM_DIRS) {
            Path path = Path.of(dir);
            if (Files.isSymbolicLink(path)) {
                try {
                    argv.addAll(
                            List.of("--symlink", Files.readSymbolicLink(path).toString(), dir));
                } catch (IOException e) {
                    // unreadable link: leave it out
                }
            } else if (Files.isDirectory(path)) {
                argv.addAll(List.of("--ro-bind", dir, dir));
            }
        }
        argv.addAll(List.of("--ro-bind", "/etc", "/etc"));
        Path resolv = Path.of("/etc/resolv.conf");
        if (Files.isSymbolicLink(resolv)) {
            // e.g. systemd-resolved's file under /run, which is otherwise not in the sandbox
            try {
                Path target = resolv.toRealPath();
                argv.addAll(List.of("--ro-bind", target.toString(), target.toString()));
            } catch (IOException e) {
                // a dangling link: no DNS configuration to give
            }
        }
        argv.addAll(List.of(
                "--ro-bind",
                etc.resolve("passwd").toString(),
                "/etc/passwd",
                "--ro-bind",
                etc.resolve("group").toString(),
                "/etc/group"));
        for (String file : HIDDEN_FILES) {
            if (Files.exists(Path.of(file), LinkOption.NOFOLLOW_LINKS)) {
                argv.addAll(List.of("--ro-bind", "/dev/null", file));
            }
        }
        for (Path secret : unreadableByOthers(Path.of("/etc"))) {
            if (Files.isDirectory(secret, LinkOption.NOFOLLOW_LINKS)) {
                argv.addAll(List.of("--tmpfs", secret.toString()));
            } else {
                argv.addAll(List.of("--ro-bind", "/dev/null", secret.toString()));
            }
        }
    }

    /**
     * What under {@code dir} other users of the machine may not read (password hashes, private keys, a root-only
     * file of secrets): mapped to Ferry's own user, a sandbox could read it when Ferry runs as root, so it is hidden.
     * Looked up at every start of a sandbox (a walk of /etc takes milliseconds), so files added later count too.
     */
    static List<Path> unreadableByOthers(Path dir) {
        List<Path> found = new ArrayList<>();
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                    if (!d.equals(dir) && hidden(d)) {
                        found.add(d);
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                    if (a.isRegularFile() && hidden(f)) {
                        found.add(f);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) {
                    return FileVisitResult.CONTINUE; // removed meanwhile, or unreadable even to Ferry
                }
            });
        } catch (IOException e) {
            log.warn("could not look for private files under {}: {}", dir, e.toString());
        }
        return found;
    }

    private static boolean hidden(Path path) throws IOException {
        return !Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)
                .contains(PosixFilePermission.OTHERS_READ);
    }

    /**
     * The folder a program from the host needs besides the system (a Python under pyenv or /opt, R or Julia under
     * /opt): its installation prefix, or nothing when it lives in the system folders every sandbox sees.
     */
    static Optional<Path> hostPrefix(Path executable) {
        try {
            Path real = executable.toRealPath();
            Path prefix = real.getParent() == null || real.getParent().getParent() == null
                    ? real.getParent()
                    : real.getParent().getParent();
            if (prefix == null) {
                return Optional.empty();
            }
            for (String dir : SYSTEM_DIRS) {
                if (real.startsWith(dir)) {
                    return Optional.empty();
                }
            }
            return Optional.of(prefix);
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
