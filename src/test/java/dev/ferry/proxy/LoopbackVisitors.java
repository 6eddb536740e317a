package dev.ferry.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Visitors from different addresses for the front door's connection tests: the whole 127.0.0.0/8 is on {@code lo}, so
 * a client socket bound to 127.0.0.5 stands for another visitor than one bound to 127.0.0.6. Also a server that answers
 * every request on every connection, and a count of the test JVM's descriptors for the front door's connections.
 */
final class LoopbackVisitors {

    private LoopbackVisitors() {}

    /** A connection to the front door on {@code port} from {@code address}, whose reads fail after 5 s. */
    static Socket from(String address, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(address, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(5_000);
        return s;
    }

    /** A response: its head (status line and fields) and its body, read by its Content-Length or its chunks. */
    record Response(String head, String body) {

        int status() {
            return Integer.parseInt(head.substring(9, 12));
        }

        String field(String name) {
            return head.lines()
                    .filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                    .map(l -> l.substring(name.length() + 1).trim())
                    .findFirst()
                    .orElse(null);
        }
    }

    static Response read(InputStream in) throws IOException {
        String head = ProxyStreamingTest.readHead(in);
        if (head.isEmpty()) {
            throw new java.io.EOFException("the connection ended without a response");
        }
        Response headOnly = new Response(head, "");
        String length = headOnly.field("Content-Length");
        if (!"chunked".equalsIgnoreCase(headOnly.field("Transfer-Encoding"))) {
            byte[] body = in.readNBytes(length == null ? 0 : Integer.parseInt(length));
            return new Response(head, new String(body, StandardCharsets.UTF_8));
        }
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        while (true) {
            int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
            if (size == 0) {
                while (!line(in).isEmpty()) {
                    // trailer fields
                }
                return new Response(head, body.toString(StandardCharsets.UTF_8));
            }
            body.write(in.readNBytes(size));
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new java.io.EOFException("the response ended mid-way");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    /** Sends {@code GET path} on a kept-alive connection and reads the answer. */
    static Response get(Socket s, InputStream in, String path) throws IOException {
        ProxyStreamingTest.send(s, "GET " + path + " HTTP/1.1\r\nHost: ferry.test\r\n\r\n");
        s.getOutputStream().flush();
        return read(in);
    }

    static InputStream in(Socket s) throws IOException {
        return new BufferedInputStream(s.getInputStream());
    }

    /** Makes {@code upstream} answer every request on every connection with 200 "ok", until it is closed. */
    static void answerEverything(ScriptedUpstream upstream) {
        upstream.acceptEach(new java.util.concurrent.atomic.AtomicInteger(), (number, s) -> {
            InputStream in = new BufferedInputStream(s.getInputStream());
            while (!ProxyStreamingTest.readHead(in).isEmpty()) {
                s.getOutputStream().write(ScriptedUpstream.OK);
                s.getOutputStream().flush();
            }
        });
    }

    /**
     * Descriptors this JVM holds for TCP sockets whose local port is {@code port}: the front door's listening socket
     * and every visitor connection it has accepted and not yet closed (client sockets have it as their remote port).
     */
    static int descriptorsOnPort(int port) {
        Set<String> inodes = new HashSet<>();
        String local = String.format(Locale.ROOT, ":%04X", port);
        for (String table : new String[] {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
            try {
                java.util.List<String> lines = Files.readAllLines(Path.of(table));
                for (String line : lines.subList(1, lines.size())) {
                    String[] f = line.trim().split("\\s+");
                    if (f[1].endsWith(local) && !f[9].equals("0")) { // (0: a socket closed, in TIME_WAIT)
                        inodes.add(f[9]);
                    }
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // no IPv6 here
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        int held = 0;
        try (var fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                        held++;
                    }
                } catch (IOException e) {
                    // closed while listed
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return held;
    }

    /** Every descriptor this JVM holds. */
    static int descriptors() {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
