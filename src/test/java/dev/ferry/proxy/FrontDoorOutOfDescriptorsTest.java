package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.ferry.FerryApplication;
import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;

/**
 * When the process runs out of file descriptors anyway (something else took them), accepting fails with "Too many open
 * files": the front door must neither stop accepting for good nor spin on the failing accept, and must serve visitors
 * again once descriptors are free. Ferry runs as a child JVM here, whose open-file limit the test lowers under it with
 * util-linux's {@code prlimit}, so that the test's own JVM keeps its descriptors. It starts with a low limit too, which
 * the connection cap must fit under.
 */
class FrontDoorOutOfDescriptorsTest {

    private static final Path PRLIMIT = Path.of("/usr/bin/prlimit");
    private final List<Socket> clients = new ArrayList<>();
    private Process ferry;
    private Path log;

    @AfterEach
    void stop() throws Exception {
        for (Socket s : clients) {
            s.close();
        }
        if (ferry != null) {
            ferry.destroy();
            if (!ferry.waitFor(30, TimeUnit.SECONDS)) {
                ferry.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (log != null) {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void acceptingSurvivesRunningOutOfDescriptorsWithoutSpinningAndServesAgainOnceTheyAreFree() throws Exception {
        boolean present = Files.isExecutable(PRLIMIT);
        if (Parts.ci()) {
            assertThat(present).as("util-linux's prlimit").isTrue();
        }
        Assumptions.assumeTrue(present, "needs util-linux's prlimit (apt-get install util-linux)");
        int port = Ports.free();
        Path work = Files.createTempDirectory("ferry-out-of-fds");
        log = work.resolveSibling(work.getFileName() + ".log");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // started with 4096 descriptors: the connection cap is lowered to fit ((4096 - 4096 / 8) / 3)
        ferry = new ProcessBuilder(
                        PRLIMIT.toString(),
                        "--nofile=4096:4096",
                        "--",
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        classpath,
                        FerryApplication.class.getName(),
                        "--server.port=" + port,
                        "--ferry.platform=local",
                        "--ferry.local.work-dir=" + work,
                        "--spring.jmx.enabled=false",
                        "--logging.level.root=WARN")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest home = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(5))
                .build();
        Awaitility.await()
                .atMost(Duration.ofSeconds(120))
                .ignoreExceptions()
                .until(() ->
                        http.send(home, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        served(port); // every class the front door needs is loaded now: loading one needs a descriptor
        assertThat(Files.readString(log)).contains("ferry.proxy.max-connections lowered from 10000 to 1194");

        // Leave the process a few descriptors, then connect more visitors than it can accept.
        long pid = ferry.pid();
        int open = descriptorsOf(pid);
        prlimit(pid, open + 8);
        for (int i = 0; i < 40; i++) {
            clients.add(LoopbackVisitors.from("127.0.0.40", port));
        }
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> Files.readString(log).contains("Too many open files"));

        long cpuBefore = cpuTicks(pid);
        Thread.sleep(3_000);
        double cpuSeconds = (cpuTicks(pid) - cpuBefore) / 100.0; // (USER_HZ)
        assertThat(cpuSeconds)
                .as("CPU seconds Ferry used in 3 s of failing accepts (a spin takes ~3)")
                .isLessThan(0.75);

        for (Socket s : clients) {
            s.close();
        }
        clients.clear();
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions()
                .untilAsserted(() -> served(port)); // the limit is still low: freed descriptors suffice
        assertThat(ferry.isAlive()).isTrue();
    }

    private static void served(int port) throws IOException {
        try (Socket s = LoopbackVisitors.from("127.0.0.41", port)) {
            InputStream in = LoopbackVisitors.in(s);
            assertThat(LoopbackVisitors.get(s, in, "/").status()).isEqualTo(200);
        }
    }

    private static int descriptorsOf(long pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) fds.count();
        }
    }

    /** utime + stime of the process, in clock ticks. */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private static void prlimit(long pid, int soft) throws Exception {
        String hard = Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits")).stream()
                .filter(l -> l.startsWith("Max open files"))
                .findFirst()
                .orElseThrow()
                .trim()
                .split("\\s+")[4];
        Process p = new ProcessBuilder(PRLIMIT.toString(), "--pid", Long.toString(pid), "--nofile=" + soft + ":" + hard)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("prlimit: " + out).isZero();
    }
}
