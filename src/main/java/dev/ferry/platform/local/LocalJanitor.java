package dev.ferry.platform.local;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes what a Ferry that crashed (or was killed) left behind: notebook servers still running from its sessions
 * (recognised by pid and start time, so an unrelated process that reused the pid is never touched), their session
 * folders, and environments whose build never finished.
 */
final class LocalJanitor {

    private static final Logger log = LoggerFactory.getLogger(LocalJanitor.class);

    private final LocalLayout layout;

    LocalJanitor(LocalLayout layout) {
        this.layout = layout;
    }

    void cleanUp() {
        int servers = 0;
        int sessions = 0;
        for (Path dir : LocalLayout.children(layout.sessionsDir())) {
            Optional<ProcessHandle> leftover = leftoverServer(dir);
            if (leftover.isPresent()) {
                ProcessTree.stop(leftover.get(), 3000);
                servers++;
            }
            LocalLayout.deleteTree(dir);
            sessions++;
        }
        List<ProcessHandle> kernels = ProcessTree.inside(layout.sessionsDir()); // kernels whose server is gone
        List<ProcessHandle> steps = ProcessTree.inside(layout.envsDir()); // pip, postBuild and what they started
        steps = steps.stream().filter(p -> !kernels.contains(p)).toList();
        ProcessTree.stopAll(kernels, 3000);
        ProcessTree.stopAll(steps, 3000);
        servers += kernels.size();
        int buildSteps = steps.size();
        int envs = 0;
        for (Path env : LocalLayout.children(layout.envsDir())) {
            if (Files.isDirectory(env) && !Files.exists(env.resolve(LocalLayout.ENV_MARKER))) {
                LocalLayout.deleteTree(env);
                envs++;
            }
        }
        if (sessions + envs + buildSteps > 0) {
            log.info(
                    "removed what an earlier Ferry left behind: {} session folders ({} server processes still running), "
                            + "{} unfinished environments ({} build processes still running)",
                    sessions,
                    servers,
                    envs,
                    buildSteps);
        }
    }

    private static Optional<ProcessHandle> leftoverServer(Path dir) {
        Path file = dir.resolve(LocalLayout.SESSION_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
            long pid = Long.parseLong(p.getProperty("pid", "-1"));
            String started = p.getProperty("started");
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .filter(h -> started != null
                            && h.info()
                                    .startInstant()
                                    .map(Instant::toString)
                                    .map(started::equals)
                                    .orElse(false));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
