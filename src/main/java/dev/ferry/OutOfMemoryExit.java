package dev.ferry;

import java.io.PrintStream;

/**
 * Ends the process when it runs out of memory. After an {@link OutOfMemoryError} a JVM is half alive: threads that
 * hit it are gone (the web server's, the culler's, the front door's), others carry on, health checks may hang, and
 * shutdown may never finish. A process that ends instead is restarted by its supervisor (Kubernetes, systemd), and
 * the sessions it started are cleaned up by the next one. {@code -XX:+ExitOnOutOfMemoryError} does this in the JVM
 * itself (the image and {@code spring-boot:run} set it); this handler is the belt for {@code java -jar} without it.
 */
public final class OutOfMemoryExit implements Thread.UncaughtExceptionHandler {

    /** The exit status, the same as the JVM's {@code -XX:+ExitOnOutOfMemoryError}. */
    public static final int STATUS = 3;

    /** Ends the process at once, without shutdown hooks (which would need the memory there is not). */
    @FunctionalInterface
    public interface Halter {
        void halt(int status);
    }

    private final Thread.UncaughtExceptionHandler next;
    private final Halter halter;
    private final PrintStream err;

    /**
     * @param next   what handles every other uncaught exception (null: print it, like the JVM does)
     * @param halter how the process is ended
     * @param err    where the one line saying why goes
     */
    public OutOfMemoryExit(Thread.UncaughtExceptionHandler next, Halter halter, PrintStream err) {
        this.next = next;
        this.halter = halter;
        this.err = err;
    }

    /** Makes an out-of-memory error in any thread end the process. */
    public static void install() {
        Thread.UncaughtExceptionHandler current = Thread.getDefaultUncaughtExceptionHandler();
        if (!(current instanceof OutOfMemoryExit)) {
            Thread.setDefaultUncaughtExceptionHandler(
                    new OutOfMemoryExit(current, Runtime.getRuntime()::halt, System.err));
        }
    }

    /**
     * For code that catches {@link Throwable} (a build, a task whose error would stay in its future): hands an
     * out-of-memory error to the thread's uncaught-exception handler, which ends the process once {@link #install}ed.
     */
    public static void reportIfOutOfMemory(Throwable e) {
        if (isOutOfMemory(e)) {
            Thread t = Thread.currentThread();
            t.getUncaughtExceptionHandler().uncaughtException(t, e);
        }
    }

    static boolean isOutOfMemory(Throwable e) {
        for (int depth = 0; e != null && depth < 10; depth++, e = e.getCause()) {
            if (e instanceof OutOfMemoryError) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void uncaughtException(Thread thread, Throwable e) {
        if (isOutOfMemory(e)) {
            try {
                err.println("Ferry ran out of memory in thread " + thread.getName() + " (" + e
                        + "): stopping now so that " + "it can be restarted.");
                err.flush();
            } catch (Throwable ignored) {
                // no memory even for that line: stop without it
            } finally {
                halter.halt(STATUS);
            }
            return;
        }
        if (next != null) {
            next.uncaughtException(thread, e);
        } else {
            err.print("Exception in thread \"" + thread.getName() + "\" ");
            e.printStackTrace(err);
        }
    }
}
