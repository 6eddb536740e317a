package dev.ferry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Executors for work that mostly waits (streams, tunnels, launches): a virtual thread per task on JDK 21 and newer,
 * daemon platform threads on JDK 17. Ferry is compiled for Java 17, so virtual threads are reached reflectively.
 */
public final class Threads {

    private Threads() {}

    /** Daemon platform threads, all named {@code name}: for a timer or a lone worker that must not keep the JVM up. */
    public static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    public static ExecutorService perTask(String name) {
        try {
            Object builder = MethodHandles.publicLookup()
                    .findStatic(
                            Thread.class,
                            "ofVirtual",
                            MethodType.methodType(Class.forName("java.lang.Thread$Builder$OfVirtual")))
                    .invoke();
            Class<?> builderType = Class.forName("java.lang.Thread$Builder");
            builder = MethodHandles.publicLookup()
                    .findVirtual(builderType, "name", MethodType.methodType(builderType, String.class, long.class))
                    .invoke(builder, name + "-", 1L);
            ThreadFactory factory = (ThreadFactory) MethodHandles.publicLookup()
                    .findVirtual(builderType, "factory", MethodType.methodType(ThreadFactory.class))
                    .invoke(builder);
            return (ExecutorService) MethodHandles.publicLookup()
                    .findStatic(
                            Executors.class,
                            "newThreadPerTaskExecutor",
                            MethodType.methodType(ExecutorService.class, ThreadFactory.class))
                    .invoke(factory);
        } catch (Throwable notAvailable) {
            AtomicInteger n = new AtomicInteger();
            return Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, name + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
    }
}
