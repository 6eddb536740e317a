package dev.ferry.platform.local;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Finds programs on the Ferry server's PATH (R, Julia, micromamba, pipenv, a specific Python). */
final class HostTools {

    private HostTools() {}

    static Optional<Path> find(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path exe = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(exe) && !Files.isDirectory(exe)) {
                return Optional.of(exe);
            }
        }
        return Optional.empty();
    }

    /** Every executable of that name on the PATH, in PATH order. */
    static List<Path> findAll(String name) {
        List<Path> found = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path exe = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(exe) && !Files.isDirectory(exe) && !found.contains(exe)) {
                found.add(exe);
            }
        }
        return found;
    }

    static Optional<Path> findFirst(String... names) {
        for (String name : names) {
            Optional<Path> found = find(name);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }
}
