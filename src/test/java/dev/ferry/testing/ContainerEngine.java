package dev.ferry.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * Debian's container engine (docker.io: dockerd 20.10 with BuildKit) for tests that build and run images for real.
 *
 * <p>Uses the engine named by {@value #HOST_ENV} ({@code .ci/run} starts one and exports it; a developer can too, see
 * {@code .ci/engine}), else {@code DOCKER_HOST} or {@code /var/run/docker.sock} when they answer; else starts its own
 * dockerd through {@code .ci/engine} (data root, exec root, socket and bridge under a temporary folder) and stops it
 * when the JVM exits. Skipped, naming the part, where dockerd is absent — a failure under {@code CI=true}.
 *
 * <p>No registry images can be pulled here: the base images are made locally once per engine and kept by it
 * ({@link #debianBase()}, {@link #notebookBase()}). Builds run with the host's network (an {@code apt-get} step
 * reaches the Debian mirror). Every container {@link #run} starts is removed at the latest when the JVM exits.
 */
public final class ContainerEngine {

    /** The engine's address ({@code unix:///…/docker.sock}) that {@code .ci/run} exports. */
    public static final String HOST_ENV = "FERRY_TEST_DOCKER_HOST";
    /** A minimal Debian 12 from {@code debootstrap --variant=minbase}. */
    public static final String DEBIAN_BASE = "localhost/debian-base:bookworm";
    /** {@link #DEBIAN_BASE} with Debian's python3, python3-venv, Notebook 6, jupyter_server and ipykernel. */
    public static final String NOTEBOOK_BASE = "localhost/notebook-base:bookworm";
    /** A Java 17 runtime from Debian's packages, standing in for eclipse-temurin:17-jre. */
    public static final String JAVA_RUNTIME = "localhost/jre:17";
    /** Debian's client: a newer {@code /usr/local/bin/docker} may lack the buildx plugin BuildKit builds need. */
    static final String DOCKER = "/usr/bin/docker";

    private static final Path SCRIPT = Path.of(".ci", "engine");

    private static ContainerEngine shared;
    private static String unavailable;

    private final String host;
    private final Set<String> containers = ConcurrentHashMap.newKeySet();
    private boolean imagesReady;
    private boolean removalHooked;

    private ContainerEngine(String host) {
        this.host = host;
    }

    /** The engine, found or started once per JVM; skips (or fails under CI) when there is none to be had. */
    public static synchronized ContainerEngine require() {
        if (shared == null && unavailable == null) {
            try {
                shared = findOrStart();
            } catch (IOException e) {
                unavailable = e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unavailable = "interrupted while starting dockerd";
            }
        }
        if (shared == null) {
            if (Parts.ci()) {
                throw new AssertionError("CI=true but there is no container engine: " + unavailable);
            }
            Assumptions.abort("skipped: no container engine: " + unavailable);
        }
        return shared;
    }

    private static ContainerEngine findOrStart() throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(DOCKER))) {
            throw new IOException("Debian's docker client " + DOCKER + " is missing (apt-get install docker.io)");
        }
        List<String> candidates = new ArrayList<>();
        if (System.getenv(HOST_ENV) != null) {
            candidates.add(System.getenv(HOST_ENV));
        }
        if (System.getenv("DOCKER_HOST") != null) {
            candidates.add(System.getenv("DOCKER_HOST"));
        }
        candidates.add("unix:///var/run/docker.sock");
        for (String candidate : candidates) {
            if (new ContainerEngine(candidate).answers()) {
                return new ContainerEngine(candidate);
            }
        }
        if (System.getenv(HOST_ENV) != null) {
            throw new IOException(HOST_ENV + "=" + System.getenv(HOST_ENV) + " does not answer");
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/dockerd")) && !Files.isExecutable(Path.of("/usr/bin/dockerd"))) {
            throw new IOException("no dockerd here and none running (apt-get install docker.io debootstrap)");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IOException("no engine running, and starting dockerd needs root (or set " + HOST_ENV + ")");
        }
        Path dir = Files.createTempDirectory("ferry-engine");
        Result started = exec(Duration.ofSeconds(90), Map.of(), "bash", SCRIPT.toString(), "start", dir.toString());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopDaemon(dir), "ferry-test-dockerd-stop"));
        if (started.exit() != 0) {
            throw new IOException("dockerd did not start: " + started.output());
        }
        return new ContainerEngine(started.output().strip());
    }

    /**
     * Stops the dockerd this JVM started, in a session of its own: removing its data root can outlast the time surefire
     * gives a test JVM to exit, and must not be cut short when the JVM is killed.
     */
    private static void stopDaemon(Path dir) {
        try {
            Process p = new ProcessBuilder(
                            "setsid", "bash", SCRIPT.toAbsolutePath().toString(), "stop", dir.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            p.waitFor(25, TimeUnit.SECONDS);
        } catch (IOException e) {
            System.err.println("could not stop the test dockerd under " + dir + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean answers() {
        try {
            return docker(Duration.ofSeconds(20), "version", "--format", "{{.Server.Version}}")
                            .exit()
                    == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The engine's address, for {@code DOCKER_HOST}. */
    public String host() {
        return host;
    }

    /** {@value #DEBIAN_BASE}, built on first use (~40 s) and kept by the engine. */
    public String debianBase() {
        baseImages();
        return DEBIAN_BASE;
    }

    /** {@value #NOTEBOOK_BASE}, built on first use (~40 s after {@link #debianBase()}) and kept by the engine. */
    public String notebookBase() {
        baseImages();
        return NOTEBOOK_BASE;
    }

    /** {@value #JAVA_RUNTIME}: {@link #DEBIAN_BASE} with Debian's openjdk-17-jre-headless (~50 s once, cached by BuildKit). */
    public synchronized String javaRuntime() {
        String debian = debianBase();
        try {
            Path dir = Files.createTempDirectory("ferry-jre-image");
            try {
                Files.writeString(dir.resolve("Dockerfile"), """
                        FROM %s
                        RUN apt-get update \\
                         && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \\
                         && rm -rf /var/lib/apt/lists/*
                        """.formatted(debian));
                return build(dir, JAVA_RUNTIME, Map.of());
            } finally {
                Files.deleteIfExists(dir.resolve("Dockerfile"));
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new AssertionError("could not write the JRE image's Dockerfile: " + e.getMessage(), e);
        }
    }

    private synchronized void baseImages() {
        if (imagesReady) {
            return;
        }
        Result r = call(Duration.ofMinutes(10), Map.of("DOCKER_HOST", host), "bash", SCRIPT.toString(), "images");
        if (r.exit() != 0) {
            throw new AssertionError("the local base images could not be built: " + r.output());
        }
        imagesReady = true;
    }

    /** Builds {@code dir} (its {@code Dockerfile}) with BuildKit as {@code tag}; fails the test with the build's log. */
    public String build(Path dir, String tag, Map<String, String> buildArgs) {
        return build(dir, dir.resolve("Dockerfile"), tag, buildArgs);
    }

    /** Builds the context {@code dir} from {@code dockerfile}; fails the test with the build's output. */
    public String build(Path dir, Path dockerfile, String tag, Map<String, String> buildArgs) {
        List<String> args = new ArrayList<>(
                List.of("build", "--network=host", "--progress=plain", "-t", tag, "-f", dockerfile.toString()));
        buildArgs.forEach((k, v) -> args.addAll(List.of("--build-arg", k + "=" + v)));
        args.add(dir.toString());
        Result r = call(
                Duration.ofMinutes(15), Map.of("DOCKER_BUILDKIT", "1", "DOCKER_HOST", host), prepend(DOCKER, args));
        if (r.exit() != 0) {
            throw new AssertionError("docker build of " + tag + " failed:\n" + tail(r.output(), 6000));
        }
        return tag;
    }

    /** Starts a container (detached) as {@code spec} says; it is removed by {@link Container#remove} or at JVM exit. */
    public Container run(RunSpec spec) {
        List<String> args = new ArrayList<>(List.of("run", "--detach"));
        args.addAll(spec.options());
        args.add(spec.image());
        args.addAll(spec.fullArgs());
        Result r = call(Duration.ofMinutes(2), Map.of("DOCKER_HOST", host), prepend(DOCKER, args));
        if (r.exit() != 0) {
            throw new AssertionError("docker run " + spec.image() + " failed: " + r.output());
        }
        String id = r.output().strip();
        id = id.substring(id.lastIndexOf('\n') + 1);
        containers.add(id);
        synchronized (this) {
            if (!removalHooked) {
                Runtime.getRuntime().addShutdownHook(new Thread(this::removeAll, "ferry-test-containers-remove"));
                removalHooked = true;
            }
        }
        return new Container(this, id);
    }

    private void removeAll() {
        for (String id : List.copyOf(containers)) {
            try {
                docker(Duration.ofSeconds(30), "rm", "-f", id);
            } catch (IOException | InterruptedException e) {
                System.err.println("could not remove test container " + id + ": " + e.getMessage());
            }
        }
    }

    /** {@code docker pull image}, ended after {@code timeout} (exit -1) so that an unreachable registry cannot hang a run. */
    public Result pull(String image, Duration timeout) {
        return call(timeout, Map.of("DOCKER_HOST", host), DOCKER, "pull", image);
    }

    /** Runs {@code docker ARGS} against this engine; the test fails if it cannot be run at all. */
    public Result docker(String... args) {
        return call(Duration.ofMinutes(5), Map.of("DOCKER_HOST", host), prepend(DOCKER, List.of(args)));
    }

    private Result docker(Duration timeout, String... args) throws IOException, InterruptedException {
        return exec(timeout, Map.of("DOCKER_HOST", host), prepend(DOCKER, List.of(args)));
    }

    /** What {@code docker run} is given, in the order a Pod's container spec has it. */
    public record RunSpec(
            String image,
            List<String> entrypoint,
            List<String> args,
            Map<String, String> env,
            String user,
            String workdir,
            boolean readOnly,
            List<String> tmpfs,
            Map<String, String> binds,
            String network,
            List<String> extra) {

        public static RunSpec of(String image) {
            return new RunSpec(
                    image, null, List.of(), Map.of(), null, null, false, List.of(), Map.of(), null, List.of());
        }

        /** The image's ENTRYPOINT replaced (a Pod's {@code command}); null keeps the image's. */
        public RunSpec entrypoint(List<String> command) {
            return new RunSpec(image, command, args, env, user, workdir, readOnly, tmpfs, binds, network, extra);
        }

        /** The image's CMD replaced (a Pod's {@code args}). */
        public RunSpec args(List<String> a) {
            return new RunSpec(
                    image, entrypoint, List.copyOf(a), env, user, workdir, readOnly, tmpfs, binds, network, extra);
        }

        public RunSpec env(Map<String, String> e) {
            return new RunSpec(
                    image,
                    entrypoint,
                    args,
                    new LinkedHashMap<>(e),
                    user,
                    workdir,
                    readOnly,
                    tmpfs,
                    binds,
                    network,
                    extra);
        }

        /** {@code uid[:gid]}. */
        public RunSpec user(String u) {
            return new RunSpec(image, entrypoint, args, env, u, workdir, readOnly, tmpfs, binds, network, extra);
        }

        public RunSpec workdir(String w) {
            return new RunSpec(image, entrypoint, args, env, user, w, readOnly, tmpfs, binds, network, extra);
        }

        public RunSpec readOnly(boolean r) {
            return new RunSpec(image, entrypoint, args, env, user, workdir, r, tmpfs, binds, network, extra);
        }

        /** Fresh writable folders at these paths (a Pod's emptyDir volumes), writable by everyone as emptyDirs are. */
        public RunSpec tmpfs(List<String> paths) {
            return new RunSpec(
                    image, entrypoint, args, env, user, workdir, readOnly, List.copyOf(paths), binds, network, extra);
        }

        /** Host folders mounted at container paths. */
        public RunSpec binds(Map<String, String> hostToContainer) {
            return new RunSpec(
                    image,
                    entrypoint,
                    args,
                    env,
                    user,
                    workdir,
                    readOnly,
                    tmpfs,
                    new LinkedHashMap<>(hostToContainer),
                    network,
                    extra);
        }

        /** {@code host} to share the host's loopback (a server a test runs on 127.0.0.1); default: the engine's bridge. */
        public RunSpec network(String n) {
            return new RunSpec(image, entrypoint, args, env, user, workdir, readOnly, tmpfs, binds, n, extra);
        }

        /** Further {@code docker run} options. */
        public RunSpec extra(List<String> options) {
            return new RunSpec(
                    image, entrypoint, args, env, user, workdir, readOnly, tmpfs, binds, network, List.copyOf(options));
        }

        List<String> options() {
            List<String> o = new ArrayList<>();
            if (entrypoint != null) {
                // docker run takes one program for --entrypoint; the rest of a Pod's command goes before its args
                o.addAll(List.of("--entrypoint", entrypoint.isEmpty() ? "" : entrypoint.get(0)));
            }
            env.forEach((k, v) -> o.addAll(List.of("--env", k + "=" + v)));
            if (user != null) {
                o.addAll(List.of("--user", user));
            }
            if (workdir != null) {
                o.addAll(List.of("--workdir", workdir));
            }
            if (readOnly) {
                o.add("--read-only");
            }
            tmpfs.forEach(p -> o.addAll(List.of("--tmpfs", p + ":rw,exec,mode=1777")));
            binds.forEach((h, c) -> o.addAll(List.of("--volume", h + ":" + c)));
            if (network != null) {
                o.addAll(List.of("--network", network));
            }
            o.addAll(extra);
            return o;
        }

        List<String> fullArgs() {
            List<String> a = new ArrayList<>();
            if (entrypoint != null && entrypoint.size() > 1) {
                a.addAll(entrypoint.subList(1, entrypoint.size()));
            }
            a.addAll(args);
            return a;
        }
    }

    /** A container this engine started. */
    public record Container(ContainerEngine engine, String id) {

        /** Its address on the engine's bridge (as a Pod's IP), empty with the host's network. */
        public String ip() {
            return engine.docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id)
                    .output()
                    .strip();
        }

        public boolean running() {
            return engine.docker("inspect", "--format", "{{.State.Running}}", id)
                    .output()
                    .strip()
                    .equals("true");
        }

        /** Waits for the container to end; its exit code, or -1 when it still runs after {@code timeout}. */
        public int await(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (!running()) {
                    return Integer.parseInt(engine.docker("inspect", "--format", "{{.State.ExitCode}}", id)
                            .output()
                            .strip());
                }
                sleep(300);
            }
            return -1;
        }

        /**
         * The first HTTP status its server on {@code port} answers for {@code target} (a path with its query) within
         * {@code wait} (a server needs a moment to start); 0 when none.
         */
        public int status(int port, String target, Duration wait) throws InterruptedException {
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(2))
                    .build();
            URI url = URI.create("http://" + ip() + ":" + port + target);
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    return http.send(
                                    HttpRequest.newBuilder(url)
                                            .timeout(Duration.ofSeconds(5))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode();
                } catch (IOException notYet) {
                    Thread.sleep(300);
                }
            }
            return 0;
        }

        /** Its output so far (stdout and stderr). */
        public String logs() {
            return engine.docker("logs", id).output();
        }

        public void remove() {
            engine.docker("rm", "-f", id);
            engine.containers.remove(id);
        }
    }

    /** A finished command: exit code and its output (stdout and stderr together). */
    public record Result(int exit, String output) {}

    private static Result call(Duration timeout, Map<String, String> env, String... command) {
        try {
            return exec(timeout, env, command);
        } catch (IOException e) {
            throw new AssertionError(String.join(" ", command) + " could not run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    static Result exec(Duration timeout, Map<String, String> env, String... command)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("ferry-engine-out", ".log");
        try {
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                return new Result(
                        -1,
                        String.join(" ", command) + " did not end within " + timeout + ":\n"
                                + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String[] prepend(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all.toArray(String[]::new);
    }

    private static String tail(String s, int max) {
        return s.length() <= max ? s : "…" + s.substring(s.length() - max);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
