package dev.ferry.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * git's own daemon serving bare repositories over {@code git://} on 127.0.0.1 (the transport JGit opens its own
 * socket for). Call {@link Parts#requireGitDaemon()} first.
 */
public final class GitDaemon implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path log;

    /** Serves every repository under {@code base} (e.g. {@link TestGitServer#reposDir()}). */
    public GitDaemon(Path base) throws IOException, InterruptedException {
        port = Ports.free();
        log = Files.createTempFile("ferry-git-daemon", ".log");
        TempDirs.deleteOnExit(log);
        process = new ProcessBuilder(
                        "git",
                        "daemon",
                        "--export-all",
                        "--reuseaddr",
                        "--informative-errors",
                        "--listen=127.0.0.1",
                        "--port=" + port,
                        "--base-path=" + base,
                        base.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    close();
                    throw new IOException("git daemon did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
        }
    }

    /** The git:// URL of a repository {@code <name>.git} under the base path. */
    public String url(String name) {
        return "git://127.0.0.1:" + port + "/" + name + ".git";
    }

    @Override
    public void close() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
