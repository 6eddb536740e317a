package dev.ferry.platform.local;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.Durations;
import dev.ferry.launch.LaunchProperties;
import dev.ferry.repo.RepoCheckout;
import dev.ferry.session.JupyterOptions;
import dev.ferry.session.LaunchFailedException;
import dev.ferry.session.RunningServer;
import dev.ferry.session.SessionRuntime;
import dev.ferry.session.SessionSpec;

/**
 * Runs each session as a Jupyter server process on 127.0.0.1 and a free port, as BinderHub runs it in a pod: base URL
 * {@code /user/<id>/}, a random token (passed in the environment, never on the command line), no port retries,
 * remote access allowed (the proxy keeps the visitor's Host), forwarded headers trusted. The session gets its own
 * copy of the repository as home and working directory, so sessions of one commit do not see each other's files.
 * The server runs in its own {@link Sandbox}: it sees its environment read-only, and writes only its home, its runtime
 * folder and its Python user base. Its Jupyter configuration comes from Ferry's folder (never the repository's
 * {@code .jupyter}), which pins token authentication.
 */
final class LocalSessionRuntime implements SessionRuntime {

    private static final Logger log = LoggerFactory.getLogger(LocalSessionRuntime.class);
    private static final String HOST = "127.0.0.1";
    private static final Pattern TOKEN_IN_URL = Pattern.compile("token=[^&\\s]+");

    private final LocalLayout layout;
    private final LocalEnvBuilder builder;
    private final LaunchProperties properties;
    private final RepoCheckout checkout;
    private final Sandbox sandbox;
    private final long maxServerLog;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    LocalSessionRuntime(
            LocalLayout layout,
            LocalEnvBuilder builder,
            LaunchProperties properties,
            RepoCheckout checkout,
            Sandbox sandbox,
            long maxServerLog) {
        this.layout = layout;
        this.maxServerLog = maxServerLog;
        this.checkout = checkout;
        this.sandbox = sandbox;
        this.builder = builder;
        this.properties = properties;
    }

    /** A server process this launcher started. */
    private record LocalServer(Process process, int port, CompletableFuture<String> exited, Path dir)
            implements RunningServer {
        @Override
        public String host() {
            return HOST;
        }
    }

    @Override
    public RunningServer start(SessionSpec spec, Consumer<String> progress) {
        Path dir = layout.sessionDir(spec.id());
        Path envDir = layout.envDir(spec.environment().key());
        try {
            Files.createDirectories(dir);
            Path home = dir.resolve("home");
            copyRepository(envDir.resolve("repo"), home);
            Files.createDirectories(dir.resolve("runtime"));
            Files.createDirectories(dir.resolve("userbase"));
            LocalEnvironment runtime = builder.runtime(spec.environment().key());
            for (int attempt = 1; ; attempt++) {
                int port = freePort();
                progress.accept("Starting the notebook server...");
                Process process = startServer(spec, runtime, envDir, home, dir, port);
                Thread output = ServerLog.pump(
                        process.getInputStream(),
                        dir.resolve("server.log"),
                        maxServerLog,
                        "ferry-server-log-" + spec.id());
                writeSessionFile(dir, process, port);
                try {
                    awaitReady(spec, process, output, port, dir);
                } catch (PortTaken e) {
                    if (attempt < 3) {
                        ProcessTree.stop(process.toHandle(), 2000);
                        continue;
                    }
                    throw new LaunchFailedException(
                            503, "No free port could be found for the notebook server; try again.");
                } catch (RuntimeException e) {
                    ProcessTree.stop(process.toHandle(), 2000, dir.toString());
                    throw e;
                }
                CompletableFuture<String> exited = new CompletableFuture<>();
                process.onExit()
                        .thenAccept(p -> exited.complete(
                                "the notebook server stopped unexpectedly (exit code " + p.exitValue() + ")."));
                return new LocalServer(process, port, exited, dir);
            }
        } catch (IOException e) {
            LocalLayout.deleteTree(dir);
            throw new LaunchFailedException(
                    500,
                    "The session could not be prepared on the Ferry server ("
                            + e.getClass().getSimpleName()
                            + "). Check that ferry.local.work-dir is writable and not full.",
                    e);
        } catch (RuntimeException e) {
            LocalLayout.deleteTree(dir);
            throw e;
        }
    }

    /** The session's own copy of the built repository, within the bounds of one checkout. */
    private void copyRepository(Path repo, Path home) throws IOException {
        try {
            LocalLayout.copyTree(repo, home, checkout.maxBytes(), checkout.maxFiles());
        } catch (LocalLayout.CopyTooLarge e) {
            throw new LaunchFailedException(
                    413,
                    e.bytes
                            ? "This repository's files add up to more than " + RepoCheckout.bytes(checkout.maxBytes())
                                    + " after its build (Ferry's limit for one repository, ferry.repo.max-checkout-size), so no session "
                                    + "can have its own copy. Write large files outside the repository's folder in postBuild, launch a "
                                    + "smaller repository, or ask the operator to raise the limit."
                            : "This repository holds more than " + checkout.maxFiles()
                                    + " files and folders after its build "
                                    + "(Ferry's limit for one repository, ferry.repo.max-checkout-files), so no session can have its own "
                                    + "copy. Launch a smaller repository, or ask the operator to raise the limit.");
        }
    }

    @Override
    public void stop(SessionSpec spec, RunningServer server) {
        LocalServer local = (LocalServer) server;
        ProcessTree.stop(local.process().toHandle(), 5000, local.dir().toString());
        LocalLayout.deleteTree(local.dir());
    }

    private Process startServer(SessionSpec spec, LocalEnvironment runtime, Path envDir, Path home, Path dir, int port)
            throws IOException {
        String module = runtime.jupyterApp().module();
        String cls = runtime.jupyterApp().configClass();
        Path prefix = runtime.python().getParent().getParent();
        List<String> command = new ArrayList<>();
        if (runtime.start().isPresent()) {
            Path wrapper = home.resolve(runtime.start().get());
            LocalLayout.makeExecutable(home, wrapper); // the home is a copy the build could have put a link into
            command.add(wrapper.toString()); // the repository's start script, which ends with exec "$@"
        }
        command.addAll(
                List.of(runtime.python().toString(), "-m", module, "--ip=" + HOST, "--port=" + port, "--no-browser"));
        command.addAll(JupyterOptions.forApp(cls, spec));
        if ("root".equals(System.getProperty("user.name"))) {
            command.add("--allow-root");
        }
        Map<String, String> env = layout.childEnvironment(home, prefix);
        env.putAll(runtime.environment());
        env.put("JUPYTER_TOKEN", spec.token());
        env.put("JUPYTER_RUNTIME_DIR", dir.resolve("runtime").toString());
        // Ferry's configuration, not the repository's .jupyter: it pins token authentication for this server.
        env.put("JUPYTER_CONFIG_DIR", sandbox.jupyterConfigDir().toString());
        // Python's user base is also on Jupyter's configuration path; in the home, the repository would choose it.
        env.put("PYTHONUSERBASE", dir.resolve("userbase").toString());
        // As in repo2docker's images: $REPO_DIR, and ~/.local/bin (= ${REPO_DIR}/.local/bin here) first on the PATH;
        // what pip install --user puts in the user base's bin is found too.
        env.put("PATH", dir.resolve("userbase").resolve("bin") + File.pathSeparator + env.get("PATH"));
        LocalEnvBuilder.repo2dockerVariables(env, home);
        if (sandbox.isolated()) {
            env.remove("PIP_CACHE_DIR"); // the builds' cache is not in the sandbox; pip uses one in the home
        }
        env.putAll(spec.binderEnv());
        List<Path> readOnly = new ArrayList<>(runtime.hostPaths());
        readOnly.add(envDir);
        Sandbox.hostPrefix(runtime.python()).ifPresent(readOnly::add);
        List<String> sandboxed = sandbox.command(
                command,
                home,
                Sandbox.Mounts.of(readOnly, List.of(home, dir.resolve("runtime"), dir.resolve("userbase"))));
        ProcessBuilder pb = new ProcessBuilder(sandboxed)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(env);
        Process process = Sandbox.spawn(pb);
        log.info("session {}: started {} (pid {}) on port {}", spec.id(), module, process.pid(), port);
        return process;
    }

    private void awaitReady(SessionSpec spec, Process process, Thread output, int port, Path dir) {
        long deadline = System.nanoTime() + properties.timeout().toNanos();
        HttpRequest status = HttpRequest.newBuilder(
                        URI.create("http://" + HOST + ":" + port + spec.baseUrl() + "api/status"))
                .header("Authorization", "token " + spec.token())
                .timeout(Duration.ofSeconds(2))
                .GET()
                .build();
        while (true) {
            if (!process.isAlive()) {
                try {
                    output.join(2000); // the last lines it printed, into the log
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                String tail = logTail(dir, 15);
                if (tail.contains("already in use")) {
                    throw new PortTaken();
                }
                throw new LaunchFailedException(
                        500,
                        "The notebook server stopped while starting (exit code " + process.exitValue()
                                + "). Its last log lines:\n" + tail);
            }
            try {
                HttpResponse<Void> r = http.send(status, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchFailedException(503, "The launch was cancelled.");
            }
            if (System.nanoTime() > deadline) {
                throw new LaunchFailedException(
                        504,
                        "The notebook server did not answer within " + Durations.human(properties.timeout())
                                + ". Its last log lines:\n" + logTail(dir, 15));
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchFailedException(503, "The launch was cancelled.");
            }
        }
    }

    /** The end of a server's log read for failure messages: a server may print gigabytes before it fails. */
    static final int LOG_TAIL_BYTES = 16 * 1024;

    static String logTail(Path dir, int lines) {
        try (SeekableByteChannel file = Files.newByteChannel(dir.resolve("server.log"))) {
            long from = Math.max(0, file.size() - LOG_TAIL_BYTES);
            ByteBuffer end = ByteBuffer.allocate((int) (file.size() - from));
            file.position(from);
            while (end.hasRemaining() && file.read(end) > 0) {
                // read to the end (or as far as the log is)
            }
            List<String> all = new ArrayList<>(
                    List.of(new String(end.array(), 0, end.position(), StandardCharsets.UTF_8).split("\r?\n", -1)));
            if (from > 0 && all.size() > 1) {
                all.remove(0); // begins inside a line
            }
            if (!all.isEmpty() && all.get(all.size() - 1).isEmpty()) {
                all.remove(all.size() - 1);
            }
            String tail = String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
            return TOKEN_IN_URL.matcher(tail).replaceAll("token=…");
        } catch (IOException | UncheckedIOException e) {
            return "(no log)";
        }
    }

    private static void writeSessionFile(Path dir, Process process, int port) throws IOException {
        Properties p = new Properties();
        p.setProperty("pid", Long.toString(process.pid()));
        process.info().startInstant().ifPresent(t -> p.setProperty("started", t.toString()));
        p.setProperty("port", Integer.toString(port));
        try (Writer w = Files.newBufferedWriter(dir.resolve(LocalLayout.SESSION_FILE), StandardCharsets.UTF_8)) {
            p.store(w, "Ferry session server");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    private static final class PortTaken extends RuntimeException {
        PortTaken() {
            super(null, null, false, false);
        }
    }
}
