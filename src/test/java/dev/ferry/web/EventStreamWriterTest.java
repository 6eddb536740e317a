package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.build.Phase;
import dev.ferry.launch.Launch;
import dev.ferry.launch.LaunchEvent;
import dev.ferry.launch.Launches;

/**
 * The one event-stream writer on its own: ids and keepalives, a resumed stream, and a client that never reads beside
 * one that does, over real loopback sockets.
 */
class EventStreamWriterTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static EventStreamWriter writer(Duration keepalive) {
        return new EventStreamWriter(JSON, Runnable::run, keepalive);
    }

    /** What a servlet response does with bytes, kept in memory (written from one thread, read from another). */
    private static final class Buffer implements EventStreamWriter.Sink {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final OutputStream out = new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (bytes) {
                    bytes.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (bytes) {
                    bytes.write(b, off, len);
                }
            }
        };

        @Override
        public OutputStream out() {
            return out;
        }

        @Override
        public void flush() {}

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }

    private static CompletableFuture<Void> writeAsync(
            EventStreamWriter writer, Launch launch, long after, EventStreamWriter.Sink sink) {
        return CompletableFuture.runAsync(() -> {
            try {
                writer.write(launch, after, sink);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void eachEventGoesOutWithItsIdAKeepaliveWhileTheLaunchIsQuietAndTheStreamEndsAfterReady() throws Exception {
        Launch launch = Launches.of("abc", 100);
        Launches.emit(launch, LaunchEvent.of(Phase.WAITING, "Finding a seat...\n"));
        Buffer client = new Buffer();

        CompletableFuture<Void> stream = writeAsync(writer(Duration.ofMillis(200)), launch, 0, client);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .until(() -> client.text().contains(":keepalive\n\n"));
        assertThat(stream).as("a stream stays open until ready or failed").isNotDone();
        Launches.emit(
                launch,
                LaunchEvent.ready("server running at http://x/user/abc/\n", Map.of("url", "http://x/user/abc/")));
        stream.get(5, TimeUnit.SECONDS);

        assertThat(client.text())
                .startsWith("id: abc.1\ndata: {\"phase\":\"waiting\",\"message\":\"Finding a seat...\\n\"}\n\n"
                        + ":keepalive\n\n")
                .endsWith("id: abc.2\ndata: {\"phase\":\"ready\",\"message\":\"server running at "
                        + "http://x/user/abc/\\n\",\"url\":\"http://x/user/abc/\"}\n\n");
    }

    @Test
    void aResumedStreamStartsAfterTheLastEventItsClientSaw() throws Exception {
        Launch launch = Launches.of("abc", 100);
        for (int i = 1; i <= 3; i++) {
            Launches.emit(launch, LaunchEvent.of(Phase.BUILDING, "line " + i + "\n"));
        }
        Launches.emit(launch, LaunchEvent.failed(500, "The build failed."));
        Buffer client = new Buffer();

        writer(Duration.ofSeconds(10)).write(launch, 2, client);

        assertThat(client.text())
                .doesNotContain("line 1", "line 2", "id: abc.1\n", "id: abc.2\n")
                .contains("id: abc.3\n")
                .endsWith("id: abc.4\ndata: {\"phase\":\"failed\",\"status_code\":500,"
                        + "\"message\":\"The build failed.\\n\"}\n\n");
    }

    /** A number past the launch's last event (a hostile Last-Event-ID) ends the stream; it neither waits nor spins. */
    @Test
    void aStreamAskedToStartBeyondTheLastEventOfAFinishedLaunchEndsAtOnce() throws Exception {
        Launch launch = Launches.of("abc", 100);
        Launches.emit(launch, LaunchEvent.of(Phase.BUILDING, "line 1\n"));
        Launches.emit(launch, LaunchEvent.failed(500, "The build failed."));
        Buffer client = new Buffer();

        writeAsync(writer(Duration.ofMillis(50)), launch, 999_999, client).get(5, TimeUnit.SECONDS);

        assertThat(client.text()).doesNotContain(":keepalive", "id: ");
    }

    @Test
    void lastEventIdsThatAreNotFerrysAreIgnored() {
        assertThat(EventStreamWriter.LastEventId.parse("k7x2.41"))
                .isEqualTo(new EventStreamWriter.LastEventId("k7x2", 41));
        assertThat(EventStreamWriter.LastEventId.parse("a.b.7")).isEqualTo(new EventStreamWriter.LastEventId("a.b", 7));
        for (String hostile :
                new String[] {null, "", "41", ".41", "abc.", "abc.x", "abc.99999999999999999999", "a".repeat(99) + ".1"
                }) {
            assertThat(EventStreamWriter.LastEventId.parse(hostile))
                    .as(String.valueOf(hostile))
                    .isNull();
        }
    }

    /** A socket's output as a sink, counting what the writer got through to the kernel. */
    private static EventStreamWriter.Sink socketSink(Socket socket, AtomicLong written) throws IOException {
        OutputStream raw = socket.getOutputStream();
        OutputStream counting = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                raw.write(b);
                written.incrementAndGet();
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                raw.write(b, off, len);
                written.addAndGet(len);
            }
        };
        return new EventStreamWriter.Sink() {
            @Override
            public OutputStream out() {
                return counting;
            }

            @Override
            public void flush() throws IOException {
                raw.flush();
            }
        };
    }

    @Test
    void aClientThatNeverReadsHoldsOnlyItsOwnStreamWhileAFriendlyOneGetsEveryEventAndItEndsWhenItsClientGoes()
            throws Exception {
        Launch launch = Launches.of("big", 10_000);
        String line = "x".repeat(1000) + "\n";
        for (int i = 0; i < 3000; i++) {
            Launches.emit(launch, LaunchEvent.of(Phase.BUILDING, line));
        }
        long streamBytes = 3000L * line.length();
        EventStreamWriter writer = writer(Duration.ofSeconds(10));

        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
                Socket hostile = new Socket();
                Socket friendly = new Socket()) {
            hostile.setReceiveBufferSize(4096); // a client that never reads: its window fills at once
            hostile.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
            Socket toHostile = server.accept();
            toHostile.setSendBufferSize(4096);
            friendly.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
            Socket toFriendly = server.accept();

            AtomicLong hostileBytes = new AtomicLong();
            CompletableFuture<Void> hostileStream = writeAsync(writer, launch, 0, socketSink(toHostile, hostileBytes));
            CompletableFuture<Void> friendlyStream =
                    writeAsync(writer, launch, 0, socketSink(toFriendly, new AtomicLong()));

            List<String> ids = new ArrayList<>();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(friendly.getInputStream(), StandardCharsets.UTF_8));
            String read;
            String lastData = null;
            while ((read = in.readLine()) != null
                    && !(lastData != null && lastData.contains("\"ready\"") && read.isEmpty())) {
                if (read.startsWith("id: ")) {
                    ids.add(read.substring(4));
                    if (ids.size() == 3000) { // all of the log read: the launch ends (a finished one keeps less)
                        Launches.emit(launch, LaunchEvent.ready("server running\n", Map.of()));
                    }
                } else if (read.startsWith("data: ")) {
                    lastData = read;
                }
            }
            friendlyStream.get(30, TimeUnit.SECONDS);
            assertThat(ids)
                    .as("every event, in order, beside a client that reads nothing")
                    .hasSize(3001)
                    .startsWith("big.1", "big.2")
                    .endsWith("big.3001");

            assertThat(hostileStream)
                    .as("the client that never reads holds its own stream only")
                    .isNotDone();
            assertThat(hostileBytes.get())
                    .as("written to it: what its socket took, nothing piled up for it")
                    .isLessThan(streamBytes / 2);

            hostile.setSoLinger(true, 0);
            hostile.close(); // it goes: its stream ends and lets go of its thread
            assertThatThrownBy(() -> hostileStream.get(30, TimeUnit.SECONDS))
                    .as("the write to a closed connection fails")
                    .isInstanceOf(ExecutionException.class)
                    .hasRootCauseInstanceOf(IOException.class);
            toHostile.close();
            toFriendly.close();
        }
    }
}
