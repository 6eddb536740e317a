package dev.ferry.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The status line and headers of an HTTP/1.1 response read from a notebook server. */
final class ResponseHead {

    private static final int MAX_HEAD_BYTES = 256 * 1024;

    final String version;
    final int status;
    final List<String[]> headers;

    private ResponseHead(String version, int status, List<String[]> headers) {
        this.version = version;
        this.status = status;
        this.headers = headers;
    }

    /** Reads one response head; throws {@link EOFException} when the connection ends before its first byte. */
    static ResponseHead read(InputStream in) throws IOException {
        int[] budget = {MAX_HEAD_BYTES};
        String statusLine = readLine(in, budget, true);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("malformed status line from upstream");
        }
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("malformed status code from upstream");
        }
        List<String[]> headers = new ArrayList<>();
        String line;
        while (!(line = readLine(in, budget, false)).isEmpty()) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            headers.add(new String[] {line.substring(0, colon).trim(), line.substring(colon + 1).trim()});
        }
        return new ResponseHead(parts[0], status, headers);
    }

    String header(String name) {
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase(name)) {
                return h[1];
            }
        }
        return null;
    }

    boolean headerContains(String name, String token) {
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase(name)) {
                for (String part : h[1].split(",")) {
                    if (part.trim().equalsIgnoreCase(token)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    long contentLength() {
        String value = header("Content-Length");
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    boolean chunked() {
        String te = header("Transfer-Encoding");
        return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
    }

    boolean keepAlive() {
        if (headerContains("Connection", "close")) {
            return false;
        }
        return !version.equals("HTTP/1.0") || headerContains("Connection", "keep-alive");
    }

    static String readLine(InputStream in, int[] budget, boolean first) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        int b;
        while ((b = in.read()) != -1) {
            if (--budget[0] < 0) {
                throw new IOException("response head from upstream too large");
            }
            if (b == '\n') {
                int len = sb.length();
                if (len > 0 && sb.charAt(len - 1) == '\r') {
                    sb.setLength(len - 1);
                }
                return sb.toString();
            }
            sb.append((char) b);
        }
        if (first && sb.length() == 0) {
            throw new EOFException("upstream closed the connection");
        }
        throw new IOException("upstream closed the connection in the middle of a response head");
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
