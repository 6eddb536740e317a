package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpServer;

import dev.ferry.testing.TestGitServer;

/**
 * RemoteGit against a real git server on loopback: the address checked is the address connected to (a resolver that
 * changes its answer cannot lead a connection to loopback), redirects are not followed, and the size and time limits
 * end a fetch with a sentence naming the setting. No traffic leaves the machine: every resolver here answers loopback
 * to anything that would connect.
 */
class RemoteGitGuardTest {

    private TestGitServer server;
    private ServerSocket trap;
    private final List<Socket> trapped = new CopyOnWriteArrayList<>();
    private Thread trapThread;

    @TempDir
    Path tmp;

    @BeforeEach
    void start() throws Exception {
        server = new TestGitServer();
        trap = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        trapThread = new Thread(() -> {
            while (!trap.isClosed()) {
                try {
                    trapped.add(trap.accept());
                } catch (Exception closed) {
                    return;
                }
            }
        });
        trapThread.start();
    }

    @AfterEach
    void stop() throws Exception {
        trap.close();
        trapThread.join(5000);
        for (Socket s : trapped) {
            s.close();
        }
        server.close();
    }

    /** Public (a documentation address, never connected to) to the first lookup, loopback to every later one. */
    private static HostResolver rebinding(AtomicInteger calls) {
        return host ->
                new InetAddress[] {InetAddress.getByName(calls.getAndIncrement() == 0 ? "93.184.216.34" : "127.0.0.1")};
    }

    @Test
    void aNameThatRebindsToLoopbackAfterTheCheckIsRefusedWhenListingRefs() {
        AtomicInteger calls = new AtomicInteger();
        UrlGuard guard = new UrlGuard(List.of("http"), false, rebinding(calls));
        RemoteGit git = new RemoteGit(guard, Duration.ofSeconds(5));
        GuardedUrl url = guard.check("http://rebind.test:" + trap.getLocalPort() + "/r.git");

        assertThatThrownBy(() -> git.listRefs(url))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("resolves to a loopback address");
        assertThat(calls.get()).isGreaterThanOrEqualTo(2);
        assertThat(trapped).isEmpty();
    }

    @Test
    void aNameThatRebindsToLoopbackAfterTheCheckIsRefusedWhenFetching() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        UrlGuard guard = new UrlGuard(List.of("http"), false, rebinding(calls));
        RemoteGit git = new RemoteGit(guard, Duration.ofSeconds(5));
        GuardedUrl url = guard.check("http://rebind.test:" + trap.getLocalPort() + "/r.git");

        assertThatThrownBy(() -> fetch(git, url, "0123456789abcdef0123456789abcdef01234567"))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("resolves to a loopback address");
        assertThat(trapped).isEmpty();
    }

    @Test
    void theConnectionUsesTheAddressTheGuardResolvedAndNoOtherLookup() throws Exception {
        String served = server.createRepo("pinned", Map.of("README.md", "hi"));
        AtomicInteger calls = new AtomicInteger();
        // "pinned.invalid" exists for no system resolver: the fetch works only if it connects to what this one
        // answered.
        UrlGuard guard = new UrlGuard(List.of("http"), true, host -> {
            calls.incrementAndGet();
            assertThat(host).isEqualTo("pinned.invalid");
            return new InetAddress[] {InetAddress.getByName("127.0.0.1")};
        });
        RemoteGit git = new RemoteGit(guard, Duration.ofSeconds(5));
        GuardedUrl url = guard.check(served.replace("127.0.0.1", "pinned.invalid"));

        assertThat(git.listRefs(url)).containsKey("refs/heads/main");
        assertThat(calls.get()).isGreaterThanOrEqualTo(2); // the check, then each connection
    }

    @Test
    void aRedirectIsNotFollowed() throws Exception {
        HttpServer redirecting = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        redirecting.createContext("/", exchange -> {
            exchange.getResponseHeaders()
                    .add("Location", "http://127.0.0.1:" + trap.getLocalPort() + exchange.getRequestURI());
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        redirecting.start();
        try {
            UrlGuard guard = new UrlGuard(List.of("http"), true, HostileResolver::lookUp);
            RemoteGit git = new RemoteGit(guard, Duration.ofSeconds(5));
            GuardedUrl url =
                    guard.check("http://127.0.0.1:" + redirecting.getAddress().getPort() + "/r.git");

            assertThatThrownBy(() -> git.listRefs(url))
                    .isInstanceOf(RepoException.class)
                    .hasMessageContaining("redirects to another address");
            assertThat(trapped).isEmpty();
        } finally {
            redirecting.stop(0);
        }
    }

    /**
     * JGit begins its messages with the repository's URL; a port or path holding "401" or "404" is not a status.
     * (Port 40159 once turned a refused redirect into "asks for a login".)
     */
    @Test
    void statusNumbersInTheAddressDoNotDecideTheSentence() throws Exception {
        UrlGuard guard = new UrlGuard(List.of("http"), true, HostileResolver::lookUp);
        GuardedUrl url = guard.check("http://127.0.0.1:40159/user401/404.git");
        org.eclipse.jgit.transport.URIish uri = RemoteGit.transportUri(url);

        assertThat(RemoteGit.translate(
                                new org.eclipse.jgit.errors.TransportException(
                                        uri, "Cannot redirect because http.followRedirects is false (HTTP status 302)"),
                                url)
                        .getMessage())
                .contains("redirects to another address");
        assertThat(RemoteGit.translate(new org.eclipse.jgit.errors.TransportException(uri, "unexpected answer"), url))
                .satisfies(e -> assertThat(e.status()).isEqualTo(502))
                .hasMessageContaining("Could not read the git repository");
        assertThat(RemoteGit.translate(new org.eclipse.jgit.errors.TransportException(uri, "401 Unauthorized"), url))
                .hasMessageContaining("asks for a login");
        assertThat(RemoteGit.translate(new org.eclipse.jgit.errors.TransportException(uri, "404 Not Found"), url)
                        .status())
                .isEqualTo(404);
    }

    @Test
    void aRepositoryLargerThanTheLimitFailsSayingSo() throws Exception {
        byte[] noise = new byte[256 * 1024];
        new Random(7).nextBytes(noise);
        String served = server.createRepo(
                "big", Map.of("data.txt", java.util.Base64.getEncoder().encodeToString(noise)));
        UrlGuard guard = new UrlGuard(List.of("http"), true, HostileResolver::lookUp);
        GuardedUrl url = guard.check(served);
        assertRefusedAt64KiBAndFetchedAt4MiB(guard, url);
    }

    @Test
    void aRepositoryWithMoreObjectsThanTheLimitFailsSayingSo() throws Exception {
        Map<String, String> files = new java.util.HashMap<>();
        for (int i = 0; i < 40; i++) {
            files.put("f" + i + ".txt", "file " + i);
        }
        String served = server.createRepo("many", files);
        UrlGuard guard = new UrlGuard(List.of("http"), true, HostileResolver::lookUp);
        GuardedUrl url = guard.check(served);
        String commit = mainCommit(guard, url);

        RemoteGit limited = new RemoteGit(guard, Duration.ofSeconds(5), 0, Duration.ofMinutes(1), 10);
        assertThatThrownBy(() -> fetch(limited, url, commit))
                .isInstanceOf(RepoException.class)
                .hasMessage(
                        "The repository has more git objects than this Ferry fetches (42 offered, 10 allowed, "
                                + "ferry.repo.max-fetch-objects). Launch a smaller repository, or ask the operator to raise the limit.");

        fetch(new RemoteGit(guard, Duration.ofSeconds(5), 0, Duration.ofMinutes(1), 42), url, commit);
    }

    @Test
    void aFetchThatOutlastsTheTimeLimitFailsSayingSo() throws Exception {
        String served = server.createRepo("slow", Map.of("README.md", "hi"));
        UrlGuard guard = new UrlGuard(List.of("http"), true, HostileResolver::lookUp);
        GuardedUrl url = guard.check(served);
        RemoteGit git = new RemoteGit(guard, Duration.ofSeconds(5), 0, Duration.ZERO);

        assertThatThrownBy(() -> fetch(git, url, "0123456789abcdef0123456789abcdef01234567"))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("took longer than this Ferry allows")
                .hasMessageContaining("ferry.repo.max-fetch-time");
    }

    @Test
    void aRepositoryLargerThanTheLimitFailsSayingSoOverGitProtocol() throws Exception {
        dev.ferry.testing.Parts.requireGitDaemon();
        byte[] noise = new byte[256 * 1024];
        new Random(11).nextBytes(noise);
        server.createRepo(
                "big-git", Map.of("data.txt", java.util.Base64.getEncoder().encodeToString(noise)));
        try (dev.ferry.testing.GitDaemon daemon = new dev.ferry.testing.GitDaemon(server.reposDir())) {
            UrlGuard guard = new UrlGuard(List.of("git"), true, HostileResolver::lookUp);
            GuardedUrl url = guard.check(daemon.url("big-git"));
            assertRefusedAt64KiBAndFetchedAt4MiB(guard, url);
        }
    }

    /**
     * A dumb-HTTP repository's objects/info/http-alternates sends JGit to another URL for its objects; a scheme outside
     * ferry.repo.allowed-schemes is refused there too, before any connection. (The attack is an https repository
     * pointing at plain http; here the allowed scheme is http and the alternate https, so that the test needs no TLS
     * server: the check is the same, on the same JGit path.)
     */
    @Test
    void anAlternateObjectStoreOverADisallowedSchemeIsRefusedBeforeConnecting() throws Exception {
        server.createRepo("alt-source", Map.of("README.md", "objects elsewhere"));
        Path source = server.reposDir().resolve("alt-source.git");
        String commit;
        try (Git bare = Git.open(source.toFile())) {
            commit = bare.getRepository().resolve("refs/heads/main").name();
        }
        Path hollow = tmp.resolve("hollow.git");
        Files.createDirectories(hollow.resolve("objects").resolve("info"));
        Files.writeString(hollow.resolve("HEAD"), "ref: refs/heads/main\n");
        Files.createDirectories(hollow.resolve("info"));
        Files.writeString(hollow.resolve("info").resolve("refs"), commit + "\trefs/heads/main\n");
        Files.writeString(hollow.resolve("objects").resolve("info").resolve("packs"), "");
        Files.writeString(
                hollow.resolve("objects").resolve("info").resolve("http-alternates"),
                "https://127.0.0.1:" + trap.getLocalPort() + "/alt-source.git/objects\n");
        HttpServer dumb = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        dumb.createContext("/hollow.git/", exchange -> {
            Path file = hollow.resolve(exchange.getRequestURI().getPath().substring("/hollow.git/".length()))
                    .normalize();
            if (file.startsWith(hollow) && Files.isRegularFile(file)) {
                byte[] body = Files.readAllBytes(file);
                exchange.getResponseHeaders().add("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            } else {
                exchange.sendResponseHeaders(404, -1);
            }
            exchange.close();
        });
        dumb.start();
        try {
            UrlGuard guard = new UrlGuard(List.of("http"), true, HostileResolver::lookUp);
            GuardedUrl url = guard.check("http://127.0.0.1:" + dumb.getAddress().getPort() + "/hollow.git");

            assertThatThrownBy(() -> fetch(new RemoteGit(guard, Duration.ofSeconds(5)), url, commit))
                    .isInstanceOf(RepoException.class)
                    .hasMessage(
                            "The repository sends Ferry to fetch its objects over https, which this Ferry does not use "
                                    + "(ferry.repo.allowed-schemes: http). Serve every object of the repository from its own URL.");
            assertThat(trapped).as("connections to the alternate").isEmpty();
        } finally {
            dumb.stop(0);
        }
    }

    @Test
    void gitProtocolConnectsToTheCheckedAddress() throws Exception {
        UrlGuard guard =
                new UrlGuard(List.of("git"), true, host -> new InetAddress[] {InetAddress.getByName("127.0.0.7")});
        GuardedUrl url = guard.check("git://repo.example.org:9418/r.git");
        assertThat(RemoteGit.transportUri(url).toString()).isEqualTo("git://127.0.0.7:9418/r.git");
    }

    private static String mainCommit(UrlGuard guard, GuardedUrl url) throws Exception {
        return new RemoteGit(guard, Duration.ofSeconds(5))
                .listRefs(url)
                .get("refs/heads/main")
                .getObjectId()
                .name();
    }

    /** The repository's main branch is refused under a 64 KiB fetch limit, saying so, and fetched under 4 MiB. */
    private void assertRefusedAt64KiBAndFetchedAt4MiB(UrlGuard guard, GuardedUrl url) throws Exception {
        String commit = mainCommit(guard, url);

        RemoteGit limited = new RemoteGit(guard, Duration.ofSeconds(5), 64 * 1024, Duration.ofMinutes(1));
        assertThatThrownBy(() -> fetch(limited, url, commit))
                .isInstanceOf(RepoException.class)
                .hasMessage("The repository is larger than this Ferry fetches (64 KiB, ferry.repo.max-fetch-size). "
                        + "Launch a smaller repository, or ask the operator to raise the limit.")
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(413));

        RemoteGit roomy = new RemoteGit(guard, Duration.ofSeconds(5), 4 * 1024 * 1024, Duration.ofMinutes(1));
        fetch(roomy, url, commit); // the same repository under a larger limit
    }

    private void fetch(RemoteGit git, GuardedUrl url, String commit) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "fetch");
        String spec = URLEncoder.encode(url.url(), StandardCharsets.UTF_8) + "/" + commit;
        RepoSpec repoSpec = new GitRepoProvider().parse(spec);
        try (Git local =
                Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
            git.fetchCommit(
                    local.getRepository(),
                    url,
                    new ResolvedRepo(repoSpec, commit, spec, "refs/heads/main"),
                    NullProgressMonitor.INSTANCE);
        }
    }
}
