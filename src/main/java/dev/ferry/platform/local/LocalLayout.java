package dev.ferry.platform.local;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.ferry.FerryException;
import dev.ferry.build.ImageKey;

/**
 * Where the local platform keeps things under {@code ferry.local.work-dir}:
 * {@code envs/<key>/} (checkout in {@code repo/}, virtual environment in {@code venv/}, {@code ferry-env.properties}
 * written last, marking a complete environment) and {@code sessions/<id>/} (the session's home, runtime files, server
 * log and {@code session.properties} with the server's pid), and {@code sandbox/} (the identity files and Jupyter
 * configuration Ferry gives every sandbox, rewritten at each start). Also the environment variables every child
 * process gets.
 */
final class LocalLayout {

    static final String ENV_MARKER = "ferry-env.properties";
    static final String SESSION_FILE = "session.properties";

    private final Path root;
    private final LocalProperties properties;

    LocalLayout(LocalProperties properties) {
        this.properties = properties;
        this.root = properties.workDir();
    }

    Path root() {
        return root;
    }

    Path envsDir() {
        return root.resolve("envs");
    }

    Path envDir(ImageKey key) {
        return envsDir().resolve(key.id());
    }

    Path sessionsDir() {
        return root.resolve("sessions");
    }

    Path sessionDir(String sessionId) {
        return sessionsDir().resolve(sessionId);
    }

    Path sandboxDir() {
        return root.resolve("sandbox");
    }

    Path pipCache() {
        return root.resolve("cache").resolve("pip");
    }

    /** The environment of every child process: only what it needs, plus the variables the operator passes on. */
    Map<String, String> childEnvironment(Path home, Path venv) {
        Map<String, String> env = new HashMap<>();
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("PATH", venv == null ? path : venv.resolve("bin") + File.pathSeparator + path);
        if (venv != null) {
            env.put("VIRTUAL_ENV", venv.toString());
        }
        env.put("HOME", home.toString());
        env.put("LANG", "C.UTF-8");
        env.put("PYTHONUNBUFFERED", "1");
        env.put("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        env.put("PIP_NO_INPUT", "1");
        env.put("PIP_PROGRESS_BAR", "off");
        env.put("PIP_CACHE_DIR", pipCache().toString());
        for (String name : properties.passEnv()) {
            String value = System.getenv(name);
            if (value != null) {
                env.put(name, value);
            }
        }
        return env;
    }

    /**
     * Removes a directory tree. A process that is still exiting may add or remove files meanwhile (a kernel writing
     * its last state), so a walk that trips over that is retried.
     */
    static void deleteTree(Path dir) {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            try {
                walkDelete(dir);
                return;
            } catch (IOException e) {
                last = e;
                try {
                    Thread.sleep(200L * (attempt + 1));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new UncheckedIOException("could not remove " + dir, last);
    }

    private static void walkDelete(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }

            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                d.toFile().setWritable(true, true);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null && !(exc instanceof NoSuchFileException)) {
                    throw exc;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Copies a directory tree, keeping symbolic links as links (a repository's links never lead outside the copy), and
     * stops with {@link CopyTooLarge} before the copy passes {@code maxBytes} or {@code maxFiles} (0: no limit): the
     * checkout was bounded, but a build's steps (postBuild) write into it, and every session gets its own copy. As for
     * the checkout, the top folder itself is not counted, and {@code .git} (which the fetch limits bounded when it
     * came) counts apart, against a bound of its own of {@code maxBytes}: a build can write into it too.
     */
    static void copyTree(Path from, Path to, long maxBytes, long maxFiles) throws IOException {
        long[] copied = {0, 0, 0};
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                count(dir, 0);
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            private void count(Path path, long bytes) {
                Path relative = from.relativize(path);
                if (relative.toString().isEmpty()) {
                    return;
                }
                if (relative.startsWith(".git")) {
                    copied[2] += bytes;
                    if (maxBytes > 0 && copied[2] > maxBytes) {
                        throw new CopyTooLarge(true);
                    }
                    return;
                }
                copied[0] += bytes;
                if (maxFiles > 0 && ++copied[1] > maxFiles) {
                    throw new CopyTooLarge(false);
                }
                if (maxBytes > 0 && copied[0] > maxBytes) {
                    throw new CopyTooLarge(true);
                }
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                count(file, attrs.size());
                Path target = to.resolve(from.relativize(file).toString());
                if (attrs.isSymbolicLink()) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(file));
                } else {
                    Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** A copy that would pass its bound: by bytes, or else by files. */
    static final class CopyTooLarge extends RuntimeException {
        final boolean bytes;

        CopyTooLarge(boolean bytes) {
            super(bytes ? "too many bytes" : "too many files", null, false, false);
            this.bytes = bytes;
        }
    }

    static List<Path> children(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var stream = Files.list(dir)) {
            return stream.toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * Writes a file of Ferry's into a folder that sandboxed code could write to (an environment, a session's home).
     * Ferry writes outside the sandbox, so a link planted at the file's place, or in the path to it, would carry the
     * write anywhere Ferry's user may write (another repository's environment, Ferry's own files): the folder must
     * really lie inside {@code root}, and what is at the file's place is removed, never followed.
     */
    static void writeInside(Path root, Path file, String text) throws IOException {
        Path parent = file.getParent();
        requireInside(root, existingAncestor(parent));
        Files.createDirectories(parent);
        requireInside(root, parent);
        Files.deleteIfExists(file); // a link is removed itself, not its target
        Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** Makes a script that sandboxed code could have replaced executable, only when it is a plain file inside {@code root}. */
    static void makeExecutable(Path root, Path file) throws IOException {
        // no sandboxed code runs while Ferry does this (a step's processes end with it), so the check holds for the
        // chmod
        Path real = file.toRealPath();
        if (!real.startsWith(root.toRealPath()) || !Files.isRegularFile(real)) {
            throw new FerryException(
                    422,
                    "The repository's " + file.getFileName() + " is not a file inside the "
                            + "repository any more (the build replaced it, e.g. with a link out of it); Ferry does not follow it. "
                            + "Commit the script itself.");
        }
        if (!real.toFile().setExecutable(true, true)) {
            throw new IOException("cannot make " + file + " executable");
        }
    }

    private static Path existingAncestor(Path dir) {
        Path p = dir;
        while (p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            p = p.getParent();
        }
        return p == null ? dir.getRoot() : p;
    }

    private static void requireInside(Path root, Path dir) throws IOException {
        if (!dir.toRealPath().startsWith(root.toRealPath())) {
            throw new FerryException(
                    422,
                    "The build replaced a folder of its environment with a link that " + "leads out of it ("
                            + root.relativize(dir.normalize()) + "); Ferry does not follow it.");
        }
    }
}
