package dev.ferry.platform.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Stops a process and everything it started (a Jupyter server's kernels, a build's pip), politely then firmly. */
final class ProcessTree {

    private ProcessTree() {}

    /** Live processes (other than this JVM) with an argument that contains the text. */
    static List<ProcessHandle> mentioning(String text) {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != self && p.isAlive())
                .filter(p -> p.info()
                        .arguments()
                        .map(args -> {
                            for (String a : args) {
                                if (a.contains(text)) {
                                    return true;
                                }
                            }
                            return false;
                        })
                        .orElse(false))
                .toList();
    }

    /**
     * Live processes (other than this JVM) that name the folder in an argument or run in it (or below it): what a build
     * step or a server left running after its parent ended, such as a {@code postBuild}'s background {@code sleep},
     * is no longer anybody's descendant but still works in the folder it was started in.
     */
    static List<ProcessHandle> inside(Path dir) {
        String text = dir.toString();
        Set<ProcessHandle> found = new LinkedHashSet<>(mentioning(text));
        long self = ProcessHandle.current().pid();
        ProcessHandle.allProcesses()
                .filter(p -> p.pid() != self && p.isAlive())
                .filter(p -> {
                    try {
                        Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd"));
                        // a folder removed while the process ran shows as "<path> (deleted)"
                        String shown = cwd.toString();
                        return shown.equals(text) || shown.startsWith(text + "/");
                    } catch (IOException | UnsupportedOperationException | SecurityException e) {
                        return false; // not Linux, or the process is gone
                    }
                })
                .forEach(found::add);
        return List.copyOf(found);
    }

    /** Stops each of the processes (with their descendants), politely then firmly. */
    static void stopAll(List<ProcessHandle> processes, long graceMillis) {
        processes.parallelStream().forEach(p -> stop(p, graceMillis));
    }

    /** SIGTERM to the process and its descendants, then SIGKILL to what is left after the grace period. */
    static void stop(ProcessHandle root, long graceMillis) {
        stop(root, graceMillis, null);
    }

    /**
     * Like {@link #stop(ProcessHandle, long)}, and also stops every process whose arguments contain {@code marker}
     * (a session's folder): Jupyter starts kernels in sessions of their own, so a kernel whose server died is no longer
     * anybody's descendant, but its connection file lives in the session's runtime folder.
     */
    static void stop(ProcessHandle root, long graceMillis, String marker) {
        List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
        tree.add(0, root);
        if (marker != null) {
            for (ProcessHandle p : mentioning(marker)) {
                if (!tree.contains(p)) {
                    tree.add(p);
                }
            }
        }
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        for (ProcessHandle p : tree) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                try {
                    p.onExit().get(left, TimeUnit.NANOSECONDS);
                } catch (Exception ignored) {
                    // still alive: killed below
                }
            }
        }
        // Children started during the grace period (or missed above) are killed too.
        List<ProcessHandle> left = new ArrayList<>(root.descendants().toList());
        left.addAll(tree);
        if (marker != null) {
            left.addAll(mentioning(marker));
        }
        for (ProcessHandle p : left) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (ProcessHandle p : left) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // a process that survives SIGKILL for 5 s is beyond our reach (zombie of another parent)
            }
        }
    }
}
