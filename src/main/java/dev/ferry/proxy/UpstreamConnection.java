package dev.ferry.proxy;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/** One TCP connection to a notebook server, with buffered streams; reused for HTTP/1.1 keep-alive. */
final class UpstreamConnection implements Closeable {

    private final Socket socket;
    private final String poolKey;
    final InputStream in;
    final OutputStream out;
    long idleSinceNanos;
    boolean reused;

    private UpstreamConnection(Socket socket, String poolKey) throws IOException {
        this.socket = socket;
        this.poolKey = poolKey;
        this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
    }

    static UpstreamConnection open(String host, int port, int connectTimeoutMillis, int readTimeoutMillis) throws IOException {
        Socket socket = new Socket();
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

    String poolKey() {
        return poolKey;
    }

    void readTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    boolean isOpen() {
        return !socket.isClosed() && !socket.isInputShutdown() && !socket.isOutputShutdown();
    }

    void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
