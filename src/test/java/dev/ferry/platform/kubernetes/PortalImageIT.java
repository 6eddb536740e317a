package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1Container;

import dev.ferry.build.ImageKey;
import dev.ferry.repo.GitRepoProvider;
import dev.ferry.repo.RepoProperties;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TempDirs;
import dev.ferry.testing.TestGitServer;

/**
 * The portal image without a container engine: the final stage of the {@code Dockerfile}
 * replayed from the Dockerfile itself, on the jar {@code package} just built — its layers extracted with Spring Boot's
 * jar tools and copied in the Dockerfile's order, its {@code ENTRYPOINT} run as its {@code USER} with its {@code ENV}
 * from another working directory. Proves the layout, the launcher and the class path; {@link PortalContainerIT} builds
 * the image itself with the engine and runs it on a read-only root, as the build Job does.
 */
class PortalImageIT {

    private static final Path DOCKERFILE = Path.of("Dockerfile");
    private static Path app;
    private static TestGitServer git;
    private static final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void assembleTheImage() throws Exception {
        Path jar = Path.of("target", "ferry.jar");
        assertThat(jar).as("the jar built by package, before integration tests").exists();
        String dockerfile = Files.readString(DOCKERFILE);
        Path root = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-image"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Matcher extract = Pattern.compile(
                        "java -Djarmode=tools -jar target/ferry.jar (extract [^\\n]*?) --destination /extracted")
                .matcher(dockerfile);
        assertThat(extract.find())
                .as("the Dockerfile extracts the jar's layers")
                .isTrue();
        List<String> command = new ArrayList<>(List.of(javaBin(), "-Djarmode=tools", "-jar", jar.toString()));
        command.addAll(List.of(extract.group(1).split(" ")));
        command.addAll(List.of("--destination", root.resolve("extracted").toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0)
                .as(out)
                .isTrue();

        app = root.resolve("app");
        Matcher layer =
                Pattern.compile("COPY --from=build /extracted/([a-z-]+)/ \\./").matcher(dockerfile);
        List<String> layers = new ArrayList<>();
        while (layer.find()) {
            layers.add(layer.group(1));
            copyTree(root.resolve("extracted").resolve(layer.group(1)), app);
        }
        assertThat(layers)
                .containsExactly("dependencies", "spring-boot-loader", "snapshot-dependencies", "application");
        git = new TestGitServer();
    }

    @AfterAll
    static void stop() throws Exception {
        started.forEach(Process::destroyForcibly);
        if (git != null) {
            git.close();
        }
    }

    /** The image's ENTRYPOINT with {@code /app} where this test assembled it. */
    private static List<String> entrypoint() throws IOException {
        Matcher m = Pattern.compile("(?m)^ENTRYPOINT \\[(.*)]$").matcher(Files.readString(DOCKERFILE));
        assertThat(m.find()).isTrue();
        List<String> argv = new ArrayList<>();
        for (String quoted : m.group(1).split(",\\s*")) {
            String arg = quoted.strip().replaceAll("^\"|\"$", "");
            argv.add(arg.equals("/app") ? app.toString() : arg.equals("java") ? javaBin() : arg);
        }
        return argv;
    }

    /** Runs as the image's USER (uid 1000) when the test runs as root, with the image's ENV, from {@code /}. */
    private static Process run(List<String> args, Map<String, String> env, Path log) throws IOException {
        List<String> argv = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            argv.addAll(List.of("/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"));
        }
        argv.addAll(entrypoint());
        argv.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(argv)
                .directory(Path.of("/").toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("HOME", "/tmp");
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private static Path writableDir(String name) throws IOException {
        Path dir = TempDirs.deleteOnExit(Files.createTempDirectory(name));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    @Test
    void thePortalStartsFromTheImageLayoutAsAnUnprivilegedUser() throws Exception {
        Path work = writableDir("ferry-image-work");
        Path log = work.resolve("portal.log");
        int port = Ports.free();
        Process portal = run(
                List.of(
                        "--server.port=" + port,
                        "--ferry.platform=local",
                        "--ferry.local.work-dir=" + work.resolve("work")),
                Map.of(),
                log);
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        HttpResponse<String> live = null;
        while (System.nanoTime() < deadline && portal.isAlive()) {
            try {
                live = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/liveness"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                break;
            } catch (IOException notYet) {
                Thread.sleep(500);
            }
        }
        assertThat(live).as(Files.readString(log)).isNotNull();
        assertThat(live.statusCode()).isEqualTo(200);
        HttpResponse<String> home = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(home.statusCode()).isEqualTo(200);
        assertThat(home.body()).contains("Ferry");
        portal.destroy();
        assertThat(portal.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void theBuildJobsPrepareStepRunsFromTheImage() throws Exception {
        String url = git.createRepo(
                "image-prepare", Map.of("requirements.txt", "numpy\n", "postBuild", "#!/bin/sh\necho hi\n"));
        String commit = git.commit("image-prepare", "main", Map.of("README.md", "# prepared\n"), "second");
        String spec = java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8) + "/main";
        ResolvedRepo repo = new ResolvedRepo(new GitRepoProvider().parse(spec), commit, spec, "refs/heads/main");
        RepoProperties repoProperties = BuildJobsTest.repoProperties(
                List.of("http"), true, org.springframework.util.unit.DataSize.ofMegabytes(50));
        BuildJobs jobs = new BuildJobs(
                BuildJobsTest.build(""),
                new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                repoProperties);
        V1Container prepare = jobs.job("ferry-build-image", repo, ImageKey.of(repo), 600)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getInitContainers()
                .get(0);

        Path workspace = writableDir("ferry-image-workspace");
        List<String> args = new ArrayList<>(prepare.getArgs());
        args.set(args.indexOf("--out") + 1, workspace.toString()); // the Job mounts an emptyDir at /workspace
        Map<String, String> env = new java.util.HashMap<>();
        prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        Path log = writableDir("ferry-image-log").resolve("prepare.log");
        Process p = run(args, env, log);
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        assertThat(workspace.resolve("README.md")).hasContent("# prepared\n");
        assertThat(Files.readString(workspace.resolve(".ferry/Dockerfile")))
                .contains("requirements.txt")
                .contains("postBuild");
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
