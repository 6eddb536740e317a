package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.Test;

class OutOfMemoryExitTest {

    private final List<Integer> halted = new ArrayList<>();
    private final List<Throwable> passedOn = new ArrayList<>();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final OutOfMemoryExit handler = new OutOfMemoryExit(
            (t, e) -> passedOn.add(e), halted::add, new PrintStream(err, true, StandardCharsets.UTF_8));

    @Test
    void anOutOfMemoryErrorInAThreadHaltsTheProcessAfterSayingWhy() throws Exception {
        Thread worker = new Thread(
                () -> {
                    throw new OutOfMemoryError("Java heap space");
                },
                "ferry-step-output");
        worker.setUncaughtExceptionHandler(handler);
        worker.start();
        worker.join();

        assertThat(halted).containsExactly(3);
        assertThat(passedOn).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("ran out of memory in thread ferry-step-output")
                .contains("Java heap space");
    }

    @Test
    void anOutOfMemoryErrorWrappedInAnotherHaltsToo() {
        handler.uncaughtException(
                Thread.currentThread(), new IllegalStateException("task failed", new OutOfMemoryError()));
        assertThat(halted).containsExactly(OutOfMemoryExit.STATUS);
    }

    @Test
    void itHaltsEvenWhenSayingWhyFails() {
        OutOfMemoryExit mute = new OutOfMemoryExit(null, halted::add, new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                throw new OutOfMemoryError("no room for the message either");
            }
        }));
        mute.uncaughtException(Thread.currentThread(), new OutOfMemoryError());
        assertThat(halted).containsExactly(3);
    }

    @Test
    void otherExceptionsGoToTheHandlerThereWasBefore() {
        IllegalStateException bug = new IllegalStateException("a bug");
        handler.uncaughtException(Thread.currentThread(), bug);
        assertThat(halted).isEmpty();
        assertThat(passedOn).containsExactly(bug);
    }

    @Test
    void anOutOfMemoryErrorCaughtByATaskIsReportedToTheThreadsHandler() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r);
            t.setUncaughtExceptionHandler(handler);
            return t;
        });
        try {
            // submit() keeps a task's error in its future: only a report from the catching code reaches the handler
            pool.submit(() -> {
                        try {
                            throw new OutOfMemoryError("Java heap space");
                        } catch (Throwable e) {
                            OutOfMemoryExit.reportIfOutOfMemory(e);
                        }
                    })
                    .get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(halted).containsExactly(3);
    }
}
