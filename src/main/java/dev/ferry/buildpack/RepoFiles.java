package dev.ferry.buildpack;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Reads a checkout's files as untrusted input: nothing outside the checkout (symbolic links that lead out are
 * refused), nothing huge, nothing binary, only UTF-8. Each refusal names the file and says what is wrong.
 */
final class RepoFiles {

    static final long MAX_CONFIG_BYTES = 1024 * 1024;

    private final Path root;

    RepoFiles(Path root) {
        try {
            this.root = root.toRealPath();
        } catch (IOException e) {
            throw new BuildpackException("The repository folder " + root + " cannot be read.");
        }
    }

    Path root() {
        return root;
    }

    /** The file's path when it exists inside the checkout; refuses a link that leads outside. */
    private Path inside(String relative) {
        Path path = root.resolve(relative).normalize();
        if (!path.startsWith(root)) {
            throw new BuildpackException(relative + " is outside the repository.");
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Path real = path.toRealPath();
                if (!real.startsWith(root)) {
                    throw new BuildpackException(relative + " is a symbolic link to a place outside the repository; "
                            + "Ferry does not follow it. Commit the file itself.");
                }
            } catch (IOException e) {
                throw new BuildpackException(
                        relative + " is a symbolic link that leads nowhere; commit the file itself.");
            }
        }
        return path;
    }

    boolean isFile(String relative) {
        return Files.isRegularFile(inside(relative));
    }

    boolean isDirectory(String relative) {
        return Files.isDirectory(inside(relative));
    }

    /** The text of a configuration file: at most 1 MiB, UTF-8, no NUL bytes. */
    String read(String relative) {
        Path path = inside(relative);
        try {
            long size = Files.size(path);
            if (size > MAX_CONFIG_BYTES) {
                throw new BuildpackException(relative + " is " + (size / 1024)
                        + " KiB; configuration files may be at most " + (MAX_CONFIG_BYTES / 1024) + " KiB.");
            }
            byte[] bytes = Files.readAllBytes(path);
            for (byte b : bytes) {
                if (b == 0) {
                    throw new BuildpackException(relative + " is a binary file, not a text configuration file.");
                }
            }
            String text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw new BuildpackException(relative + " is not UTF-8 text.");
        } catch (IOException e) {
            throw new BuildpackException(relative + " cannot be read.");
        }
    }
}
