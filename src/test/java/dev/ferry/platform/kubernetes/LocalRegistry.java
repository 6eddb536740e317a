package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.assertj.core.api.AbstractThrowableAssert;
import org.awaitility.Awaitility;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

import dev.ferry.testing.Parts;
import dev.ferry.testing.Ports;

/**
 * A real OCI registry for tests: Debian's {@code docker-registry} (CNCF distribution 2.8.2) serving plain HTTP on
 * 127.0.0.1 and a free port, with its storage and config in a temporary directory that {@link #close()} removes
 * together with the process. Anonymous, with htpasswd Basic authentication, or with Bearer tokens from a
 * {@link RegistryTokenService}. {@link #push} puts a small image into it with {@code umoci} and {@code skopeo}, no
 * container engine needed.
 *
 * <p>The factories skip the calling test (or fail it under {@code CI=true}) when the binaries are missing.
 */
public final class LocalRegistry implements AutoCloseable {

    /** The repository {@link #push(String)} uses, under {@link #prefix()}. */
    public static final String DEMO_REPOSITORY = "ferry/demo";

    private final Path dir;
    private final int port;
    private final String pushCredentials;
    private final Process process;
    private Path image;

    /** Writes what the auth section needs into the registry's directory and returns that section of config.yml. */
    private interface AuthSetup {
        String configure(Path dir) throws IOException;
    }

    private LocalRegistry(AuthSetup auth, String pushCredentials) throws IOException {
        this.pushCredentials = pushCredentials;
        dir = Files.createTempDirectory("ferry-registry");
        boolean started = false;
        try {
            port = Ports.free();
            String authSection = auth.configure(dir);
            Path config = dir.resolve("config.yml");
            Files.writeString(config, """
                    version: 0.1
                    log:
                      level: warn
                      accesslog:
                        disabled: true
                    storage:
                      filesystem:
                        rootdirectory: %s
                    http:
                      addr: 127.0.0.1:%d
                    """.formatted(dir.resolve("storage"), port) + authSection);
            process = new ProcessBuilder("/usr/bin/docker-registry", "serve", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("registry.log").toFile())
                    .start();
            awaitReady();
            started = true;
        } finally {
            if (!started) {
                close();
            }
        }
    }

    /** A registry anyone may pull from and push to. */
    public static LocalRegistry anonymous() throws IOException {
        Parts.requireRegistryTools();
        return new LocalRegistry(dir -> "", null);
    }

    /** A registry that wants this account with Basic authentication (htpasswd, bcrypt) for everything. */
    public static LocalRegistry basicAuth(String username, String password) throws IOException {
        Parts.requireRegistryTools();
        return new LocalRegistry(
                dir -> {
                    Path htpasswd = dir.resolve("htpasswd");
                    Files.writeString(htpasswd, username + ":" + new BCryptPasswordEncoder(4).encode(password) + "\n");
                    return """
                    auth:
                      htpasswd:
                        realm: ferry-test
                        path: %s
                    """.formatted(htpasswd);
                },
                username + ":" + password);
    }

    /**
     * A registry that wants Bearer tokens from this token service; pushes get theirs from it with
     * {@code pushCredentials} ({@code user:password}, or null for anonymous).
     */
    public static LocalRegistry tokenAuth(RegistryTokenService tokens, String pushCredentials) throws IOException {
        Parts.requireRegistryTools();
        return new LocalRegistry(
                dir -> """
                auth:
                  token:
                    realm: %s
                    service: %s
                    issuer: %s
                    rootcertbundle: %s
                """.formatted(
                                tokens.realm(),
                                RegistryTokenService.SERVICE,
                                RegistryTokenService.ISSUER,
                                tokens.certificateBundle()),
                pushCredentials);
    }

    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:<port>}. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    /** The registry's API base URL. */
    public URI url() {
        return URI.create("http://" + host());
    }

    /** An image prefix for {@code ferry.registry.prefix}: {@code 127.0.0.1:<port>/ferry/}. */
    public String prefix() {
        return host() + "/ferry/";
    }

    /** {@code ferry.registry.*} for this registry (plain HTTP), with these credentials (empty: anonymous). */
    public RegistryProperties properties(String username, String password) {
        return new RegistryProperties(prefix(), "", true, username, password);
    }

    /** Pushes the small test image as {@value #DEMO_REPOSITORY}:{@code tag}. */
    public void push(String tag) {
        push(DEMO_REPOSITORY, tag);
    }

    /** Pushes the small test image (built once per registry) as {@code repository:tag}. */
    public synchronized void push(String repository, String tag) {
        if (image == null) {
            Path layout = dir.resolve("image");
            Path bundle = dir.resolve("bundle");
            run("umoci", "init", "--layout", layout.toString());
            run("umoci", "new", "--image", layout + ":latest");
            run("umoci", "unpack", "--rootless", "--image", layout + ":latest", bundle.toString());
            try {
                Files.writeString(bundle.resolve("rootfs").resolve("hello.txt"), "hello from Ferry's tests\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            run("umoci", "repack", "--image", layout + ":latest", bundle.toString());
            image = layout;
        }
        List<String> command =
                new ArrayList<>(List.of("skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"));
        if (pushCredentials != null) {
            command.add("--dest-creds=" + pushCredentials);
        }
        command.add("oci:" + image + ":latest");
        command.add("docker://" + host() + "/" + repository + ":" + tag);
        run(command.toArray(String[]::new));
    }

    private void run(String... command) {
        try {
            Path out = dir.resolve("command.log");
            Process p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException(command[0] + " did not finish within 120 s");
            }
            if (p.exitValue() != 0) {
                // the log never shows a password: skopeo does not print --dest-creds
                throw new IllegalStateException(command[0] + " " + command[1] + " failed (exit " + p.exitValue() + "): "
                        + Files.readString(out, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void awaitReady() {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url() + "/v2/"))
                .timeout(Duration.ofSeconds(1))
                .build();
        Awaitility.await("docker-registry on " + host())
                .atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("docker-registry exited (" + process.exitValue() + "): "
                                + Files.readString(dir.resolve("registry.log")));
                    }
                    int status = http.send(request, HttpResponse.BodyHandlers.discarding())
                            .statusCode();
                    return status == 200 || status == 401;
                });
    }

    /** Asserts what a client allowed to read here sees: the tag {@link #push} put, no other tag, no other repository. */
    static void assertSeesOnlyWhatWasPushed(RegistryClient client) {
        assertThat(client.exists(DEMO_REPOSITORY, "built")).isTrue();
        assertThat(client.exists(DEMO_REPOSITORY, "never-built")).isFalse();
        assertThat(client.exists("ferry/no-such-repository", "built")).isFalse();
    }

    /** Asserts that asking for the pushed tag with {@code client} throws a {@link RegistryException} naming this host. */
    AbstractThrowableAssert<?, ? extends Throwable> assertRefuses(RegistryClient client) {
        return assertThatThrownBy(() -> client.exists(DEMO_REPOSITORY, "built"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining(host());
    }

    /** Stops the registry and removes its directory (storage, config, image). */
    @Override
    public void close() throws IOException {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
