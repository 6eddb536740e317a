package dev.ferry.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.springframework.util.FileSystemUtils;

/**
 * Temporary folders that outlive one test (a Spring context's work dir, a git server's repositories) are removed when
 * the test JVM exits, so a test run leaves nothing in {@code /tmp}.
 */
public final class TempDirs {

    private static final List<Path> PATHS = new ArrayList<>();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            synchronized (PATHS) {
                                PATHS.forEach(p -> FileSystemUtils.deleteRecursively(p.toFile()));
                            }
                        },
                        "ferry-test-temp-cleanup"));
    }

    private TempDirs() {}

    /** Removes {@code path} (a folder with all it holds, or a file) when the JVM exits; returns it. */
    public static Path deleteOnExit(Path path) {
        synchronized (PATHS) {
            PATHS.add(path);
        }
        return path;
    }
}
