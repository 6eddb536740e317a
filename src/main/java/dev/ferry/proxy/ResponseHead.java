package dev.ferry.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The status line and headers of an HTTP/1.1 response read from a notebook server, with the framing the proxy needs
 * (length, chunked, keep-alive) decided once while reading.
 */
final class ResponseHead {

    private static final int MAX_HEAD_BYTES = 256 * 1024;

    final int status;
    /** Header names and values, in order: name at even indexes, value at the odd index after it. */
    final List<String> headers;
    final long contentLength;
    final boolean chunked;
    final boolean keepAlive;

    private ResponseHead(int status, List<String> headers, long contentLength, boolean chunked, boolean keepAlive) {
        this.status = status;
        this.headers = headers;
        this.contentLength = contentLength;
        this.chunked = chunked;
        this.keepAlive = keepAlive;
    }

    /** Reads one response head; throws {@link EOFException} when the connection ends before its first byte. */
    static ResponseHead read(InputStream in) throws IOException {
        LineReader lines = new LineReader(in);
        String statusLine = lines.next(true);
        if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.") || statusLine.charAt(8) != ' ') {
            throw new IOException("malformed status line from upstream");
        }
        boolean http10 = statusLine.charAt(7) == '0';
        int status = 0;
        for (int i = 9; i < 12; i++) {
            char c = statusLine.charAt(i);
            if (c < '0' || c > '9') {
                throw new IOException("malformed status code from upstream");
            }
            status = status * 10 + (c - '0');
        }
        List<String> headers = new ArrayList<>(24);
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        boolean keepAliveToken = false;
        String line;
        while (!(line = lines.next(false)).isEmpty()) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            headers.add(name);
            headers.add(value);
            if (name.length() == 14 && name.equalsIgnoreCase("Content-Length")) {
                try {
                    length = Long.parseLong(value);
                } catch (NumberFormatException e) {
                    throw new IOException("malformed Content-Length from upstream");
                }
            } else if (name.length() == 17 && name.equalsIgnoreCase("Transfer-Encoding")) {
                chunked = value.regionMatches(true, value.length() - 7, "chunked", 0, 7);
            } else if (name.length() == 10 && name.equalsIgnoreCase("Connection")) {
                for (String token : value.split(",")) {
                    String t = token.trim();
                    close |= t.equalsIgnoreCase("close");
                    keepAliveToken |= t.equalsIgnoreCase("keep-alive");
                }
            }
        }
        boolean keepAlive = !close && (!http10 || keepAliveToken);
        return new ResponseHead(status, headers, chunked ? -1 : length, chunked, keepAlive);
    }

    /** Reads CRLF-terminated ISO-8859-1 lines of a head, within a total budget. */
    static final class LineReader {
        private final InputStream in;
        private int budget = MAX_HEAD_BYTES;
        private char[] chars = new char[256];

        LineReader(InputStream in) {
            this.in = in;
        }

        String next(boolean first) throws IOException {
            int n = 0;
            int b;
            while ((b = in.read()) != -1) {
                if (--budget < 0) {
                    throw new IOException("response head from upstream too large");
                }
                if (b == '\n') {
                    if (n > 0 && chars[n - 1] == '\r') {
                        n--;
                    }
                    return new String(chars, 0, n);
                }
                if (n == chars.length) {
                    chars = java.util.Arrays.copyOf(chars, n * 2);
                }
                chars[n++] = (char) b;
            }
            if (first && n == 0) {
                throw new EOFException("upstream closed the connection");
            }
            throw new IOException("upstream closed the connection in the middle of a response head");
        }
    }
}
