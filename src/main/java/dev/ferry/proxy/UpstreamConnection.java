package dev.ferry.proxy;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;

/**
 * One TCP connection to a notebook server, reused for HTTP/1.1 keep-alive. Its streams are buffered without locks
 * (a connection is used by one request at a time; {@code BufferedInputStream} takes a lock per byte).
 */
final class UpstreamConnection implements Closeable {

    private final Socket socket;
    private final String poolKey;
    final Input in;
    final Output out;
    long idleSinceNanos;
    boolean reused;

    private UpstreamConnection(Socket socket, String poolKey) throws IOException {
        this.socket = socket;
        this.poolKey = poolKey;
        this.in = new Input(socket.getInputStream(), 8 * 1024);
        this.out = new Output(socket.getOutputStream(), 8 * 1024);
    }

    static UpstreamConnection open(String host, int port, int connectTimeoutMillis, int readTimeoutMillis) throws IOException {
        return connect(new Socket(), host, port, connectTimeoutMillis, readTimeoutMillis);
    }

    /**
     * A connection whose socket is a {@link SocketChannel}, used blocking for the WebSocket handshake and then handed to
     * a {@link TunnelSelector} (a plain {@code Socket} cannot be selected). Never pooled.
     */
    static UpstreamConnection openSelectable(String host, int port, int connectTimeoutMillis, int readTimeoutMillis)
            throws IOException {
        return connect(SocketChannel.open().socket(), host, port, connectTimeoutMillis, readTimeoutMillis);
    }

    /** Connects {@code socket} (closed on failure; a channel's socket closes its channel). */
    private static UpstreamConnection connect(Socket socket, String host, int port, int connectTimeoutMillis,
                                              int readTimeoutMillis) throws IOException {
        try {
            socket.setTcpNoDelay(true);
            socket.setKeepAlive(true);
            socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
            socket.setSoTimeout(readTimeoutMillis);
            return new UpstreamConnection(socket, host + ":" + port);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The channel of a connection from {@link #openSelectable}. */
    SocketChannel channel() {
        return socket.getChannel();
    }

    String poolKey() {
        return poolKey;
    }

    void readTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    boolean isOpen() {
        return !socket.isClosed() && !socket.isInputShutdown() && !socket.isOutputShutdown();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    /** An unsynchronised buffered input stream. */
    static final class Input extends InputStream {
        private final InputStream source;
        private final byte[] buffer;
        private int pos;
        private int limit;

        Input(InputStream source, int size) {
            this.source = source;
            this.buffer = new byte[size];
        }

        private boolean fill() throws IOException {
            int n = source.read(buffer, 0, buffer.length);
            if (n <= 0) {
                return false;
            }
            pos = 0;
            limit = n;
            return true;
        }

        @Override
        public int read() throws IOException {
            if (pos >= limit && !fill()) {
                return -1;
            }
            return buffer[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            int buffered = limit - pos;
            if (buffered > 0) {
                int n = Math.min(buffered, len);
                System.arraycopy(buffer, pos, b, off, n);
                pos += n;
                return n;
            }
            if (len >= buffer.length) {
                return source.read(b, off, len); // large reads bypass the buffer
            }
            if (!fill()) {
                return -1;
            }
            return read(b, off, len);
        }

        /** Hands over the bytes read ahead of what was consumed (after a response head), leaving the buffer empty. */
        byte[] takeBuffered() {
            byte[] rest = java.util.Arrays.copyOfRange(buffer, pos, limit);
            pos = limit;
            return rest;
        }

        @Override
        public int available() throws IOException {
            int buffered = limit - pos;
            return buffered > 0 ? buffered : source.available();
        }

        @Override
        public void close() throws IOException {
            source.close();
        }
    }

    /** An unsynchronised buffered output stream that writes ASCII text without allocating. */
    static final class Output extends OutputStream {
        private final OutputStream sink;
        private final byte[] buffer;
        private int count;

        Output(OutputStream sink, int size) {
            this.sink = sink;
            this.buffer = new byte[size];
        }

        @Override
        public void write(int b) throws IOException {
            if (count == buffer.length) {
                flushBuffer();
            }
            buffer[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len >= buffer.length) {
                flushBuffer();
                sink.write(b, off, len);
                return;
            }
            if (len > buffer.length - count) {
                flushBuffer();
            }
            System.arraycopy(b, off, buffer, count, len);
            count += len;
        }

        /** Writes the characters of an ISO-8859-1 string (HTTP header text). */
        Output ascii(String s) throws IOException {
            int n = s.length();
            for (int i = 0; i < n; i++) {
                if (count == buffer.length) {
                    flushBuffer();
                }
                buffer[count++] = (byte) s.charAt(i);
            }
            return this;
        }

        Output crlf() throws IOException {
            write('\r');
            write('\n');
            return this;
        }

        private void flushBuffer() throws IOException {
            if (count > 0) {
                sink.write(buffer, 0, count);
                count = 0;
            }
        }

        @Override
        public void flush() throws IOException {
            flushBuffer();
            sink.flush();
        }

        @Override
        public void close() throws IOException {
            sink.close();
        }
    }
}
