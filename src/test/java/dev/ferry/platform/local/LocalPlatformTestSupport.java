package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.BeforeAll;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.convention.TestBean;

import dev.ferry.build.BuildService;
import dev.ferry.repo.HostResolver;
import dev.ferry.session.SessionService;
import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.Parts;
import dev.ferry.testing.TestGitServer;

/**
 * Ferry on the local platform with real parts: a real git server (JGit over HTTP on loopback), Debian's Jupyter, and
 * Ferry itself on a random port. Loopback repositories need {@code allow-private-addresses}; host names other than
 * {@code localhost} never resolve, so no test can send a packet off this machine.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "ferry.platform=local",
            "ferry.repo.allowed-schemes=http,https",
            "ferry.repo.allow-private-addresses=true",
            "ferry.repo.git-timeout=10s",
            "ferry.launch.timeout=60s",
            "ferry.build.max-concurrent=2"
        })
public abstract class LocalPlatformTestSupport {

    protected static final TestGitServer GIT = startGitServer();

    @LocalServerPort
    protected int port;

    @Autowired
    protected SessionService sessions;

    @Autowired
    BuildService builds;

    @Autowired
    dev.ferry.launch.LaunchService launches;

    @Autowired
    LocalProperties localProperties;

    @TestBean
    HostResolver hostResolver;

    static HostResolver hostResolver() {
        return LocalPlatformTestSupport::resolveLocalOnly;
    }

    @DynamicPropertySource
    static void workDir(DynamicPropertyRegistry registry) {
        // Sandboxed wherever bubblewrap is (and always under CI, which installs it); a developer machine without it
        // runs these tests unconfined rather than not at all. The sandbox's own tests require it (Parts).
        registry.add(
                "ferry.local.sandbox",
                () -> Files.isExecutable(Path.of("/usr/bin/bwrap")) || Parts.ci() ? "bubblewrap" : "none");
        registry.add("ferry.local.work-dir", () -> {
            try {
                return dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempDirectory("ferry-test-work"))
                        .toString();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @BeforeAll
    static void requireParts() {
        Parts.requireJupyter();
    }

    /** Resolves {@code localhost} and IP literals without any lookup; every other name is unknown. */
    static InetAddress[] resolveLocalOnly(String host) throws UnknownHostException {
        if (host.equals("localhost")) {
            return new InetAddress[] {InetAddress.getLoopbackAddress()};
        }
        if (host.matches("[0-9.]+") || host.contains(":")) {
            return new InetAddress[] {InetAddress.getByName(host)};
        }
        throw new UnknownHostException(host);
    }

    private static TestGitServer startGitServer() {
        try {
            TestGitServer server = new TestGitServer();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (Exception ignored) {
                    // the JVM is exiting
                }
            }));
            return server;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    protected String base() {
        return "http://127.0.0.1:" + port;
    }

    protected static String encode(String text) {
        return java.net.URLEncoder.encode(text, java.nio.charset.StandardCharsets.UTF_8);
    }

    String buildUrl(String repoUrl, String ref) {
        return base() + "/build/git/" + encode(repoUrl) + "/" + ref;
    }

    protected EventStream.Result launch(String repoUrl, String ref) throws Exception {
        return EventStream.read(buildUrl(repoUrl, ref));
    }

    /** Launches a new repository of {@code files} (branch main) to its end, ready or failed. */
    protected EventStream.Result result(String name, Map<String, String> files) throws Exception {
        return launch(GIT.createRepo(name, files), "main");
    }

    /** Launches a new repository of {@code files}, asserting the session is ready; its ready event. */
    protected Map<String, Object> ready(String name, Map<String, String> files) throws Exception {
        EventStream.Result result = result(name, files);
        assertThat(result.last().get("phase")).as(log(result)).isEqualTo("ready");
        return result.last();
    }

    /** What {@code code} prints when run in a new kernel ({@code kernel}; the default one if null) of a ready session. */
    protected static String run(Map<String, Object> ready, String kernel, String code) throws Exception {
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        return jupyter.execute(jupyter.startKernel(kernel), code);
    }

    /** The launch's messages, as a build log shows them (each ends its line). */
    protected static String log(EventStream.Result result) {
        StringBuilder all = new StringBuilder();
        result.events().forEach(e -> all.append(e.get("message")));
        return all.toString();
    }

    static String sessionId(EventStream.Result ready) {
        return sessionId(ready.last());
    }

    static String sessionId(Map<String, Object> ready) {
        String url = (String) ready.get("url");
        String[] parts = url.split("/");
        return parts[parts.length - 1];
    }

    Path workDir() {
        return localProperties.workDir();
    }

    /** The pid of a running session's server, from the file the launcher keeps. */
    long serverPid(String sessionId) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(
                workDir().resolve("sessions").resolve(sessionId).resolve("session.properties"))) {
            p.load(in);
        }
        return Long.parseLong(p.getProperty("pid"));
    }

    /**
     * Processes this context's Ferry started that are still running: every server, kernel and build step runs in a
     * folder under the work dir (its working directory), and kernels also name their connection file there. Other
     * contexts of the same test JVM have other work dirs, so their processes do not count.
     */
    List<ProcessHandle> serverProcesses() {
        String dir = workDir().toString();
        java.util.Set<ProcessHandle> found = new java.util.LinkedHashSet<>(ProcessTree.mentioning(dir));
        ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> {
                    try {
                        return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd"))
                                .toString()
                                .startsWith(dir);
                    } catch (IOException | UnsupportedOperationException | SecurityException e) {
                        return false;
                    }
                })
                .forEach(found::add);
        return List.copyOf(found);
    }

    List<String> sessionDirs() {
        return LocalLayout.children(workDir().resolve("sessions")).stream()
                .map(p -> p.getFileName().toString())
                .toList();
    }

    /** Waits for launches still under way (a client may have left before ready), then stops every session. */
    protected void stopAllSessions() {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> launches.inProgress() == 0);
        sessions.sessions().forEach(s -> sessions.stop(s.id(), "the test ended."));
    }

    void assertNothingLeftBehind() {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(sessionDirs()).as("session folders").isEmpty();
            assertThat(serverProcesses()).as("processes").isEmpty();
        });
    }

    protected static Map<String, String> files(String... nameThenContent) {
        Map<String, String> files = new java.util.LinkedHashMap<>();
        for (int i = 0; i < nameThenContent.length; i += 2) {
            files.put(nameThenContent[i], nameThenContent[i + 1]);
        }
        return files;
    }
}
