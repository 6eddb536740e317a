package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * With kept-alive connections allowed to idle for ever (a keep-alive timeout of -1, as Tomcat reads it), the front
 * door still ends a request body that stops coming after the read timeout, and leaves idle kept connections alone.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"ferry.platform=local", "server.tomcat.keep-alive-timeout=-1", "ferry.proxy.read-timeout=2s"})
class FrontDoorWithoutKeepAliveTimeoutTest extends ScriptedUpstreamBase {

    private static final String SESSION = "nokeepalivetimeoutaaaaaaaaaaaaa";

    @Override
    String session() {
        return SESSION;
    }

    @Test
    void aRequestBodyThatStopsComingIsEndedAfterTheReadTimeout() throws Exception {
        CompletableFuture<String> server = upstream.serveOnceReading((in, out) -> {
            ProxyStreamingTest.readHead(in);
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII); // until the door closes it
        });
        try (Socket c = visitor()) {
            ProxyStreamingTest.send(
                    c,
                    "PUT /user/" + SESSION + "/api/contents/a.txt HTTP/1.1\r\nHost: ferry.test\r\n"
                            + "Content-Length: 10\r\n\r\nabc");
            long start = System.nanoTime();
            assertThat(c.getInputStream().read()).as("the connection ends").isEqualTo(-1);
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start))
                    .isLessThan(10);
        }
        assertThat(server.get(10, TimeUnit.SECONDS)).isEqualTo("abc");
    }

    @Test
    void aKeptConnectionMayIdleLongerThanTheReadTimeout() throws Exception {
        upstream.serveOnce(s -> {
            try {
                InputStream in = new BufferedInputStream(s.getInputStream());
                while (!ProxyStreamingTest.readHead(in).isEmpty()) {
                    s.getOutputStream().write(ScriptedUpstream.OK);
                    s.getOutputStream().flush();
                }
            } catch (IOException e) {
                // the door closed its side
            }
        });
        try (Socket c = visitor()) {
            InputStream in = new BufferedInputStream(c.getInputStream());
            for (int i = 0; i < 2; i++) {
                ProxyStreamingTest.send(c, "GET /user/" + SESSION + "/x HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
                assertThat(ProxyStreamingTest.readHead(in)).startsWith("HTTP/1.1 200");
                assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII))
                        .isEqualTo("ok");
                if (i == 0) {
                    Thread.sleep(3_500); // longer than the read timeout, and than the idle handler's period
                }
            }
        }
    }
}
