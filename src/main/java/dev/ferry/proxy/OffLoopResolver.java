package dev.ferry.proxy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * Looks up the host names of the front door's upstreams off its event loops. Netty's default resolver calls
 * {@link InetAddress#getAllByName} on the event loop that connects, so a name server that is slow to answer (a static
 * route {@code ferry.proxy.routes.*} naming a host, when the JDK's cache of it has lapsed) would stall every
 * connection that loop serves, other sessions' included. Addresses written as IP literals — every session's route —
 * are parsed in place; names go to a small pool of daemon threads, and the connection goes on when the answer comes. A
 * lookup gets as long as a connection may take ({@code ferry.proxy.connect-timeout}; Netty starts that timer only
 * once the address is known): then it fails, and the front door answers 502. The same threads ask the platform for
 * sessions the route table does not hold ({@link #offLoop}).
 */
final class OffLoopResolver extends AddressResolverGroup<InetSocketAddress> {

    /** How a host name becomes addresses: {@link InetAddress#getAllByName} but in tests. */
    interface Lookup {
        InetAddress[] all(String host) throws UnknownHostException, InterruptedException;
    }

    private static final Logger log = LoggerFactory.getLogger(OffLoopResolver.class);
    private final ThreadPoolExecutor pool;
    private final long timeoutMillis;
    private volatile Lookup lookup = InetAddress::getAllByName;

    OffLoopResolver(Duration timeout) {
        this.timeoutMillis = Math.max(1, timeout.toMillis());
        pool = new ThreadPoolExecutor(
                4,
                4,
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("ferry-proxy-lookup", true));
        pool.allowCoreThreadTimeOut(true);
    }

    /** For tests: how names are looked up from now on. */
    void lookup(Lookup lookup) {
        this.lookup = lookup;
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
        return new InetNameResolver(executor) {
            @Override
            protected void doResolve(String host, Promise<InetAddress> promise) {
                lookUp(executor, host, promise, all -> all[0]);
            }

            @Override
            protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
                lookUp(executor, host, promise, Arrays::asList);
            }
        }.asAddressResolver();
    }

    private <T> void lookUp(EventExecutor loop, String host, Promise<T> promise, Function<InetAddress[], T> answer) {
        // (an IPv6 literal with a zone, fe80::1%eth0, goes to the JDK, which keeps the zone and asks no name server)
        byte[] literal = host.indexOf('%') < 0 ? NetUtil.createByteArrayFromIpAddressString(host) : null;
        if (literal != null) {
            try {
                promise.trySuccess(answer.apply(new InetAddress[] {InetAddress.getByAddress(host, literal)}));
            } catch (UnknownHostException e) { // (only for a byte array of the wrong length)
                promise.tryFailure(e);
            }
            return;
        }
        Lookup current = lookup;
        try {
            Future<?> timer = loop.schedule(
                    () -> promise.tryFailure(new UnknownHostException(
                            host + ": no answer from the name server within " + timeoutMillis + " ms")),
                    timeoutMillis,
                    TimeUnit.MILLISECONDS);
            promise.addListener(done -> timer.cancel(false));
            pool.execute(() -> {
                try {
                    promise.trySuccess(answer.apply(current.all(host)));
                } catch (Exception e) {
                    promise.tryFailure(e);
                }
            });
        } catch (RejectedExecutionException e) { // closed: the front door is stopping
            promise.tryFailure(e);
        }
    }

    /**
     * Runs a call that may block (a platform asked for a session's route) on the lookup threads, and hands its result
     * (null when it failed) to {@code then} on {@code loop}.
     */
    <T> void offLoop(Supplier<T> call, EventExecutor loop, Consumer<T> then) {
        try {
            pool.execute(() -> {
                T result = null;
                try {
                    result = call.get();
                } catch (RuntimeException e) {
                    log.debug("off-loop call failed: {}", e.toString());
                }
                T answer = result;
                loop.execute(() -> then.accept(answer));
            });
        } catch (RejectedExecutionException e) { // closed: the front door is stopping
            loop.execute(() -> then.accept(null));
        }
    }

    @Override
    public void close() {
        super.close();
        pool.shutdownNow();
    }
}
