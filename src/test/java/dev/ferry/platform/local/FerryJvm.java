package dev.ferry.platform.local;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.awaitility.Awaitility;

import dev.ferry.FerryApplication;

/**
 * Ferry as the local-platform tests start it themselves (in this JVM, or as a child JVM on the test classpath as an
 * operator runs it, for the tests that kill or stop it).
 */
final class FerryJvm {

    private FerryJvm() {}

    /**
     * The settings such a Ferry runs with: the local platform in {@code workDir} on {@code port}, fetching from the
     * tests' git servers on loopback, logging warnings only; then {@code more}.
     */
    static String[] localSettings(Path workDir, int port, String... more) {
        List<String> settings = new ArrayList<>(List.of(
                "--server.port=" + port,
                "--ferry.platform=local",
                "--ferry.local.work-dir=" + workDir,
                "--ferry.repo.allowed-schemes=http,https",
                "--ferry.repo.allow-private-addresses=true",
                "--spring.jmx.enabled=false",
                "--logging.level.root=WARN"));
        settings.addAll(List.of(more));
        return settings.toArray(String[]::new);
    }

    /** The command that starts Ferry with the given settings ({@code --name=value}). */
    static List<String> command(List<String> settings) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                FerryApplication.class.getName()));
        command.addAll(settings);
        return command;
    }

    /** Waits until the Ferry on {@code port} answers its health endpoint with 200 (a JVM takes a while to start). */
    static void awaitHealthy(int port, Duration atMost) {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
                .build();
        Awaitility.await()
                .atMost(atMost)
                .ignoreExceptions()
                .until(() -> http.send(health, HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200);
    }
}
