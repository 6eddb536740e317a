package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.Future;

/** {@link OffLoopResolver}: literals in place, names on its own threads, and never longer than the connect timeout. */
class OffLoopResolverTest {

    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final OffLoopResolver resolver = new OffLoopResolver(Duration.ofMillis(300));
    private final AtomicInteger lookups = new AtomicInteger();
    private final CountDownLatch never = new CountDownLatch(1);

    @AfterEach
    void close() {
        never.countDown();
        resolver.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private Future<InetSocketAddress> resolve(String host) {
        return resolver.getResolver(loop).resolve(InetSocketAddress.createUnresolved(host, 8888));
    }

    @Test
    void aNameServerThatDoesNotAnswerFailsTheLookupAfterTheConnectTimeout() {
        resolver.lookup(host -> {
            lookups.incrementAndGet();
            never.await();
            return new InetAddress[0];
        });
        long start = System.nanoTime();
        Future<InetSocketAddress> answer = resolve("upstream.slow.test");
        assertThat(answer.awaitUninterruptibly(10_000)).as("the lookup ended").isTrue();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(answer.cause())
                .isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("upstream.slow.test")
                .hasMessageContaining("within 300 ms");
        assertThat(millis).isBetween(250L, 5_000L);
        assertThat(lookups).hasValue(1);
    }

    @Test
    void aNameIsLookedUpOnTheResolversThreadsAndLiteralsAreNot() throws Exception {
        resolver.lookup(host -> {
            lookups.incrementAndGet();
            assertThat(loop.inEventLoop()).isFalse();
            return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {10, 1, 2, 3})};
        });
        assertThat(resolve("upstream.example").sync().getNow().getAddress().getHostAddress())
                .isEqualTo("10.1.2.3");
        assertThat(lookups).hasValue(1);
        assertThat(resolve("127.0.0.7").sync().getNow().getAddress().getHostAddress())
                .isEqualTo("127.0.0.7");
        assertThat(resolve("[::1]").sync().getNow().getAddress().isLoopbackAddress())
                .isTrue();
        assertThat(lookups).as("literals need no lookup").hasValue(1);
    }

    @Test
    void aLookupAfterCloseFailsInsteadOfWaiting() {
        resolver.lookup(host -> {
            lookups.incrementAndGet();
            return InetAddress.getAllByName("127.0.0.1");
        });
        resolver.close();
        Future<InetSocketAddress> answer = resolve("upstream.example");
        assertThat(answer.awaitUninterruptibly(10_000)).as("the lookup ended").isTrue();
        assertThat(answer.isSuccess()).isFalse();
        assertThat(lookups).hasValue(0);
    }
}
