package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A notebook server stand-in for the proxy tests: a socket on loopback routed as one session, whose every connection
 * the test scripts. Also the WebSocket handshake bytes and the scripts and reads several tests share.
 */
final class ScriptedUpstream implements AutoCloseable {

    static final String UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    static final byte[] SWITCHING = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket socket;
    private final RouteTable routes;
    private final String session;

    ScriptedUpstream(RouteTable routes, String session) throws IOException {
        this.routes = routes;
        this.session = session;
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        routes.add(new Route(session, "127.0.0.1", socket.getLocalPort()));
    }

    Socket accept() throws IOException {
        return socket.accept();
    }

    /** What a server does with one of many connections: {@code number} is its place in the order accepted. */
    @FunctionalInterface
    interface Connection {
        void serve(int number, Socket s) throws IOException;
    }

    /**
     * Until the upstream is closed, serves every connection the proxy opens with {@code connection}, each on a daemon
     * thread of its own; {@code numbers} counts them as they are accepted (from 1). A connection the proxy closes just
     * ends its thread.
     */
    void acceptEach(AtomicInteger numbers, Connection connection) {
        daemon(() -> {
            while (true) {
                Socket s;
                try {
                    s = socket.accept();
                } catch (IOException closed) {
                    return; // closed at the end of the test
                }
                int number = numbers.incrementAndGet();
                daemon(() -> {
                    try (s) {
                        connection.serve(number, s);
                    } catch (IOException gone) {
                        // the proxy closed its side
                    }
                });
            }
        });
    }

    private static void daemon(Runnable body) {
        Thread t = new Thread(body, "scripted-upstream");
        t.setDaemon(true);
        t.start();
    }

    /** What a server does with one connection; an I/O failure fails the future {@link #serveOnce} returns. */
    @FunctionalInterface
    interface Script {
        void serve(Socket s) throws IOException;
    }

    /** Serves one upstream connection with the script, on its own thread. */
    CompletableFuture<Void> serveOnce(Script script) {
        return CompletableFuture.runAsync(() -> {
            try (Socket s = socket.accept()) {
                script.serve(s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** What a server does with one connection: reads the request from {@code in}, may answer on {@code out}. */
    @FunctionalInterface
    interface Exchange {
        /** Returns what the test wants to know of what the server read. */
        String serve(InputStream in, OutputStream out) throws IOException;
    }

    /** Serves one connection with {@code exchange}; the future gets what it returns (or its failure). */
    CompletableFuture<String> serveOnceReading(Exchange exchange) {
        CompletableFuture<String> read = new CompletableFuture<>();
        serveOnce(s -> {
            try {
                read.complete(exchange.serve(new BufferedInputStream(s.getInputStream()), s.getOutputStream()));
            } catch (IOException e) {
                read.completeExceptionally(e);
            }
        });
        return read;
    }

    /** The answer the reading scripts give: 200 with the body "ok". */
    static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII);

    /**
     * A server that accepts the upgrade and at once sends {@code payload} — far more than the sockets between hold, so
     * the proxy must wait for the visitor — then waits for the visitor to go.
     */
    static Script upgradeThenSend(byte[] payload) {
        return s -> {
            ProxyStreamingTest.readHead(new BufferedInputStream(s.getInputStream()));
            OutputStream out = s.getOutputStream();
            out.write(SWITCHING);
            out.write(payload);
            out.flush();
            s.getInputStream().read();
        };
    }

    /** The 101 a WebSocket server answers {@code head} (a request read with {@code readHead}) with. */
    static byte[] switchingFor(String head) {
        String key = head.lines()
                .filter(l -> l.regionMatches(true, 0, "Sec-WebSocket-Key:", 0, 18))
                .map(l -> l.substring(18).trim())
                .findFirst()
                .orElseThrow(() -> new AssertionError("no key in " + head));
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
            return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: "
                            + java.util.Base64.getEncoder().encodeToString(digest) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One WebSocket frame as a server reads it: its opcode, its length, and its payload unmasked (null if skipped). */
    record Frame(int opcode, long length, byte[] payload) {

        int closeCode() {
            return ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
        }

        String closeReason() {
            return new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }
    }

    /** Reads a frame's header, and its payload unless it is longer than {@code limit} (then the payload is left unread). */
    static Frame readFrame(InputStream in, long limit) throws IOException {
        int b0 = in.read();
        int b1 = in.read();
        if (b0 < 0 || b1 < 0) {
            throw new java.io.EOFException("no frame");
        }
        long length = b1 & 0x7f;
        if (length >= 126) {
            byte[] ext = in.readNBytes(length == 126 ? 2 : 8);
            length = 0;
            for (byte b : ext) {
                length = (length << 8) | (b & 0xff);
            }
        }
        byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
        if (length > limit) {
            return new Frame(b0 & 0x0f, length, null);
        }
        byte[] payload = in.readNBytes((int) length);
        for (int i = 0; mask != null && i < payload.length; i++) {
            payload[i] ^= mask[i % 4];
        }
        return new Frame(b0 & 0x0f, length, payload);
    }

    /** Writes one final, unmasked frame (as a server sends them). */
    static void writeFrame(OutputStream out, int opcode, byte[] payload) throws IOException {
        out.write(0x80 | opcode);
        if (payload.length < 126) {
            out.write(payload.length);
        } else {
            out.write(126);
            out.write(payload.length >> 8);
            out.write(payload.length & 0xff);
        }
        out.write(payload);
        out.flush();
    }

    static byte[] closePayload(int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[2 + text.length];
        payload[0] = (byte) (code >> 8);
        payload[1] = (byte) code;
        System.arraycopy(text, 0, payload, 2, text.length);
        return payload;
    }

    /** A slow visitor: {@code length} bytes in reads of at most 4 KiB. */
    /** Sends back all that comes from the other side until it closes: an echoing WebSocket server, after its 101. */
    static void echo(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[65536];
        int n;
        while ((n = in.read(buffer)) != -1) {
            out.write(buffer, 0, n);
            out.flush();
        }
    }

    /**
     * Writes {@code payload} on the visitor's connection while reading as many bytes from {@code in} (both at once:
     * neither side's buffers hold 16 MiB); what was read within {@code seconds}.
     */
    static byte[] sendAndReceive(Socket c, InputStream in, byte[] payload, long seconds) throws Exception {
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
            try {
                return in.readNBytes(payload.length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        c.getOutputStream().write(payload);
        c.getOutputStream().flush();
        return received.get(seconds, TimeUnit.SECONDS);
    }

    static byte[] readInSmallReads(InputStream in, int length) throws IOException {
        byte[] received = new byte[length];
        int off = 0;
        while (off < length) {
            int n = in.read(received, off, Math.min(4096, length - off));
            assertThat(n).isPositive();
            off += n;
        }
        return received;
    }

    @Override
    public void close() throws IOException {
        routes.remove(session, "the test ended.");
        socket.close();
    }
}
