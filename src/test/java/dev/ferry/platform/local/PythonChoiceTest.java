package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.Parts;

/**
 * A Python that is on the PATH but does not run — a pyenv shim for a version that is not installed prints "pyenv:
 * python3.6: command not found" and exits 127 — is not taken for that Python.
 */
class PythonChoiceTest {

    @TempDir
    Path dir;

    private Path shim() throws IOException {
        Path shim = dir.resolve("python3.6");
        Files.writeString(shim, "#!/bin/sh\necho \"pyenv: python3.6: command not found\" >&2\nexit 127\n");
        Files.setPosixFilePermissions(shim, PosixFilePermissions.fromString("rwxr-xr-x"));
        return shim;
    }

    @Test
    void aShimForAMissingVersionDoesNotRunAndARealPythonDoes() throws IOException {
        Parts.requireJupyter();
        assertThat(PythonFinder.runs(shim())).isFalse();
        assertThat(PythonFinder.runs(Parts.SYSTEM_PYTHON)).isTrue();
    }

    @Test
    void theMessageNamesThePythonAskedForAndWhereItLooked() throws IOException {
        Path shim = shim();
        assertThat(PythonFinder.notFound("python3.6", List.of(shim)))
                .isEqualTo("Looked for python3.6 on the Ferry server's PATH and found " + shim + ", which does not run "
                        + "(a pyenv shim for a version that is not installed does that).");
        assertThat(PythonFinder.notFound("python3.6", List.of()))
                .as("the server's PATH itself is for the operator's log, not the visitor's build log")
                .isEqualTo("There is no python3.6 in any folder of the Ferry server's PATH.");
    }
}
