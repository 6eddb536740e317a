package dev.ferry.platform.local;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ferry.HealthCheck;
import dev.ferry.build.BuildFailedException;

/**
 * The local platform's health: a Python that can run Jupyter is there (the check that BinderHub makes of its hub),
 * the work dir has room for environments, and whether repository code runs sandboxed.
 */
final class LocalHealth implements HealthCheck.Contributor {

    static final long MIN_FREE_BYTES = 1024L * 1024 * 1024;

    private final LocalLayout layout;
    private final PythonFinder python;
    private final Sandbox sandbox;

    LocalHealth(LocalLayout layout, PythonFinder python, Sandbox sandbox) {
        this.layout = layout;
        this.python = python;
        this.sandbox = sandbox;
    }

    @Override
    public List<HealthCheck> healthChecks() {
        return List.of(jupyter(), disk(), sandbox());
    }

    /** Not a failure when off (the operator chose it), but said where operators look. */
    private HealthCheck sandbox() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("isolated", sandbox.isolated());
        details.put(
                "message",
                sandbox.isolated()
                        ? "every build and session runs in its own bubblewrap sandbox"
                        : "ferry.local.sandbox=none: repository code runs unconfined as Ferry's user");
        return new HealthCheck("Sandbox", true, details, false);
    }

    private HealthCheck jupyter() {
        Map<String, Object> details = new LinkedHashMap<>();
        try {
            PythonFinder.Python found = python.find();
            details.put("python", found.executable().toString());
            details.put("jupyter", found.hasJupyter() ? "installed" : "installed into each environment");
            return new HealthCheck("Jupyter", true, details, false);
        } catch (BuildFailedException e) {
            details.put("message", e.getMessage());
            return new HealthCheck("Jupyter", false, details, false);
        }
    }

    private HealthCheck disk() {
        Map<String, Object> details = new LinkedHashMap<>();
        try {
            Path dir = layout.root();
            Files.createDirectories(dir);
            FileStore store = Files.getFileStore(dir);
            long free = store.getUsableSpace();
            details.put("path", dir.toString());
            details.put("free_bytes", free);
            details.put("min_free_bytes", MIN_FREE_BYTES);
            return new HealthCheck("Disk space", free >= MIN_FREE_BYTES, details, false);
        } catch (IOException e) {
            details.put(
                    "message", "the work dir cannot be used: " + e.getClass().getSimpleName());
            return new HealthCheck("Disk space", false, details, false);
        }
    }
}
