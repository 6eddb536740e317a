package dev.ferry.platform.local;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import dev.ferry.build.BoundedLineReader;

/** Runs a build step as a child process, streaming its output lines, and stops it (with its children) on cancel. */
final class ProcessRunner {

    /** The outcome of a step: its exit code, or -1 when it was cancelled. */
    record Result(int exitCode, boolean cancelled) {}

    private ProcessRunner() {}

    /**
     * The longest line a step's output may hold in memory; longer ones are cut here and say so. The build log cuts
     * lines further, at {@code ferry.build.log.max-line-length}.
     */
    static final int MAX_LINE_BYTES = 64 * 1024;

    private static Thread pump(InputStream stream, Consumer<String> lines) {
        Thread reader = new Thread(
                () -> {
                    try (BoundedLineReader in = new BoundedLineReader(stream, MAX_LINE_BYTES)) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            lines.accept(line);
                        }
                    } catch (IOException ignored) {
                        // the process was stopped
                    }
                },
                "ferry-step-output");
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    static Result run(
            List<String> command,
            Path workDir,
            Map<String, String> env,
            Consumer<String> lines,
            BooleanSupplier cancelled)
            throws IOException {
        return run(command, workDir, env, lines, null, cancelled);
    }

    /** Like the other, with standard error going to {@code errors} instead of being merged (when not null). */
    static Result run(
            List<String> command,
            Path workDir,
            Map<String, String> env,
            Consumer<String> lines,
            Consumer<String> errors,
            BooleanSupplier cancelled)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(errors == null)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().clear();
        builder.environment().putAll(env);
        Process process = Sandbox.spawn(builder);
        Thread reader = pump(process.getInputStream(), lines);
        if (errors != null) {
            pump(process.getErrorStream(), errors);
        }
        try {
            while (!process.waitFor(100, TimeUnit.MILLISECONDS)) {
                if (cancelled.getAsBoolean()) {
                    ProcessTree.stop(process.toHandle(), 2000);
                    reader.join(2000);
                    return new Result(-1, true);
                }
            }
            reader.join(5000);
            return new Result(process.exitValue(), false);
        } catch (InterruptedException e) {
            ProcessTree.stop(process.toHandle(), 2000);
            Thread.currentThread().interrupt();
            return new Result(-1, true);
        } finally {
            if (process.isAlive()) {
                ProcessTree.stop(process.toHandle(), 2000);
            }
        }
    }
}
