package dev.ferry.proxy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;

/**
 * Reads a server's responses for the front door without taking them apart. Each head is checked and split into lines
 * once — its framing, whether the server keeps the connection, which headers must not reach the visitor — and becomes
 * a {@link Head}; the visitor's copy of it is written from those lines. What follows a head (a body of a length,
 * chunks, or bytes until the server closes) goes on as the bytes that arrived, slices of the buffers they came in,
 * and {@link #END} follows the last of them. Chunks are checked and their data goes on in size lines and a last chunk
 * written here (with the trailer fields that may pass), or alone for a visitor that cannot read chunks (HTTP/1.0,
 * {@link #dechunk()}).
 *
 * <p>Netty's HTTP codec would decode every header into a map (hashing and validating each name) only for the front
 * door to encode them again; this passes the bytes and does the checks a proxy needs. A head that is not HTTP/1.x,
 * is longer than {@link #MAX_HEAD} bytes, folds a line, has a header name that is not a token or a value with control
 * characters, or gives lengths that disagree fails the connection, as do chunks that are not framed as RFC 9112 says;
 * the visitor sees the server giving no proper answer (a 502 if none of the response went out yet, else the connection
 * cut before the response's end).
 */
final class ResponseReader extends ByteToMessageDecoder {

    /** Marks the end of a response (a marker object: releasing it does nothing). */
    static final Object END = new Object() {
        @Override
        public String toString() {
            return "END";
        }
    };

    static final int MAX_HEAD = 256 * 1024;
    private static final int MAX_CHUNK_LINE = 4096;

    private enum State {
        HEAD,
        FIXED,
        CHUNK_SIZE,
        CHUNK_DATA,
        CHUNK_END,
        TRAILERS,
        UNTIL_CLOSE,
        FAILED
    }

    private State state = State.HEAD;
    private long remaining;
    private boolean answersHead;
    private boolean dechunk;
    private boolean heard;
    /** How much of a head or trailer section still coming has been searched for its end. */
    private int scanned;
    /** A chunk's data came before (its CRLF goes out with the next size line). */
    private boolean afterData;

    /** The request the next response answers was a HEAD request (its response has no body, whatever it says). */
    void expectAnswerTo(boolean headRequest) {
        answersHead = headRequest;
    }

    /** Whether any of a response has come since the last one ended (even a part of a head, or one that failed). */
    boolean heard() {
        return heard;
    }

    /**
     * Passes on only the data of the chunks of the response whose head was read last (for a visitor that cannot read
     * chunks); called when that head is passed on, before its body is read.
     */
    void dechunk() {
        dechunk = true;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            read(ctx, in, out);
        } catch (RuntimeException e) {
            state = State.FAILED; // the connection is closed for it; what else comes is not read
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private void read(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state != State.HEAD) {
            heard = true;
        }
        switch (state) {
            case HEAD -> readHead(in, out);
            case FAILED -> in.skipBytes(in.readableBytes());
            case FIXED -> {
                int n = (int) Math.min(remaining, in.readableBytes());
                out.add(in.readRetainedSlice(n));
                remaining -= n;
                if (remaining == 0) {
                    end(out);
                }
            }
            case UNTIL_CLOSE -> out.add(in.readRetainedSlice(in.readableBytes()));
            default -> readChunks(ctx, in, out);
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (state == State.UNTIL_CLOSE) {
            end(out); // a body that ends with the connection has ended; any other state here means it was cut short
        }
    }

    static final short CRLF = ('\r' << 8) | '\n';

    /** A chunk size line: the size in hex, then CR LF. */
    static void writeChunkSize(ByteBuf out, long size) {
        out.writeCharSequence(Long.toHexString(size), StandardCharsets.US_ASCII);
        out.writeShort(CRLF);
    }

    private void end(List<Object> out) {
        out.add(END);
        state = State.HEAD;
        answersHead = false;
        heard = false;
    }

    private void readHead(ByteBuf in, List<Object> out) {
        dechunk = false; // (it was for the body of the head before)
        afterData = false;
        while (in.isReadable() && (in.getByte(in.readerIndex()) == '\r' || in.getByte(in.readerIndex()) == '\n')) {
            in.skipBytes(1); // empty lines before a status line are ignored (RFC 9112 2.2)
        }
        if (!in.isReadable()) {
            return;
        }
        heard = true;
        int start = in.readerIndex();
        int end = endOfSection(in, start);
        if (end < 0) {
            if (in.readableBytes() > MAX_HEAD) {
                throw new CorruptedFrameException("response head longer than " + MAX_HEAD + " bytes");
            }
            return;
        }
        if (end - start > MAX_HEAD) {
            throw new CorruptedFrameException("response head longer than " + MAX_HEAD + " bytes");
        }
        byte[] bytes = new byte[end - start];
        in.getBytes(
                start, bytes); // parsed from an array: a buffer's checks on every byte would cost more than the copy
        Head head = new Head(bytes);
        in.readerIndex(end);
        out.add(head);
        int status = head.status;
        if (status < 200) {
            return; // no body: another head follows (or, after a 101, the protocol switched to)
        }
        if (answersHead || status == 204 || status == 304 || head.contentLength == 0) {
            end(out);
        } else if (head.chunked) {
            state = State.CHUNK_SIZE;
        } else if (head.contentLength > 0) {
            state = State.FIXED;
            remaining = head.contentLength;
        } else {
            state = State.UNTIL_CLOSE;
        }
    }

    /**
     * The index just past the empty line that ends a head (or a chunked body's trailer section) starting at
     * {@code from}; -1 when it has not all come. Bytes searched before are not searched again: a head that trickles in
     * costs no more than one that comes at once.
     */
    private int endOfSection(ByteBuf in, int from) {
        int to = in.writerIndex();
        int i = from + scanned;
        while (true) {
            int lf = in.indexOf(i, to, (byte) '\n');
            if (lf < 0) {
                scanned = to - from;
                return -1;
            }
            // an empty line: the first line, or "\n" or "\r\n" right after the previous line's "\n"
            if (lf == from
                    || (lf == from + 1 && in.getByte(from) == '\r')
                    || in.getByte(lf - 1) == '\n'
                    || (in.getByte(lf - 1) == '\r' && lf - 1 > from && in.getByte(lf - 2) == '\n')) {
                scanned = 0;
                return lf + 1;
            }
            i = lf + 1;
        }
    }

    /**
     * Reads chunks, passing on their data as slices and, unless {@link #dechunk() dechunking}, framing of its own: a
     * size line per chunk and a last chunk with the trailer fields that may go on. The visitor never gets the server's
     * framing bytes, so a size line or a trailer the front door reads one way cannot reach it to be read another.
     */
    private void readChunks(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int at = in.readerIndex();
            switch (state) {
                case CHUNK_SIZE -> {
                    int lf = in.indexOf(at, in.writerIndex(), (byte) '\n');
                    if (lf < 0) {
                        if (in.readableBytes() > MAX_CHUNK_LINE) {
                            throw new CorruptedFrameException("chunk size line too long");
                        }
                        return;
                    }
                    long size = chunkSize(in, at, lf);
                    in.readerIndex(lf + 1);
                    if (size == 0) {
                        state = State.TRAILERS;
                    } else {
                        if (!dechunk) {
                            ByteBuf line = ctx.alloc().buffer(20);
                            if (afterData) {
                                line.writeShort(CRLF);
                            }
                            writeChunkSize(line, size);
                            out.add(line);
                        }
                        remaining = size;
                        state = State.CHUNK_DATA;
                    }
                }
                case CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, in.readableBytes());
                    out.add(in.readRetainedSlice(n));
                    remaining -= n;
                    if (remaining == 0) {
                        state = State.CHUNK_END;
                    }
                }
                case CHUNK_END -> {
                    if (in.getByte(at) == '\r') {
                        if (in.readableBytes() < 2) {
                            return;
                        }
                        at++;
                    }
                    if (in.getByte(at) != '\n') {
                        throw new CorruptedFrameException("chunk not followed by CRLF");
                    }
                    in.readerIndex(at + 1);
                    afterData = true;
                    state = State.CHUNK_SIZE;
                }
                default -> { // TRAILERS: field lines until an empty one, read once all have come
                    int end = endOfSection(in, at);
                    if (end < 0) {
                        if (in.readableBytes() > MAX_HEAD) {
                            throw new CorruptedFrameException("trailers longer than " + MAX_HEAD + " bytes");
                        }
                        return;
                    }
                    byte[] trailers = new byte[end - at];
                    in.getBytes(at, trailers);
                    in.readerIndex(end);
                    if (!dechunk) {
                        ByteBuf last = ctx.alloc().buffer(trailers.length + 7);
                        if (afterData) {
                            last.writeShort(CRLF);
                        }
                        last.writeByte('0');
                        last.writeShort(CRLF);
                        Head.writeTrailers(trailers, last);
                        last.writeShort(CRLF);
                        out.add(last);
                    }
                    afterData = false;
                    end(out);
                    return;
                }
            }
        }
    }

    /**
     * The size a chunk size line gives (RFC 9112 7.1): hex digits, optional spaces, then the line's end or {@code ;}
     * and extensions (which are not passed on), then CRLF or LF.
     */
    private static long chunkSize(ByteBuf in, int from, int lf) {
        int end = lf > from && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        long size = 0;
        int i = from;
        while (i < end && Character.digit(in.getByte(i), 16) >= 0) {
            if (i - from == 15) {
                throw new CorruptedFrameException("chunk size too large");
            }
            size = size * 16 + Character.digit(in.getByte(i), 16);
            i++;
        }
        if (i == from) {
            throw new CorruptedFrameException("chunk size line without a size");
        }
        while (i < end && (in.getByte(i) == ' ' || in.getByte(i) == '\t')) {
            i++;
        }
        if (i < end && in.getByte(i) != ';') {
            throw new CorruptedFrameException("chunk size followed by something other than an extension");
        }
        for (; i < end; i++) {
            byte b = in.getByte(i);
            if (b != '\t' && (b < ' ' || b == 0x7f)) {
                throw new CorruptedFrameException("control character in a chunk size line");
            }
        }
        return size;
    }

    /** One response head: the bytes the server sent, the positions of its lines, and what the front door decides. */
    static final class Head {

        /** Never passed on: they are about the connection to the server, not the response. */
        private static final byte HOP = 1;

        private static final byte CONTENT_LENGTH = 2;
        private static final byte TRANSFER_ENCODING = 3;
        /** Connection: not passed on either, and it may name more headers that are not. */
        private static final byte CONNECTION = 4;

        private static final byte OTHER = 0;
        private static final byte[] HTTP_11 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
        private static final boolean[] TOKEN = new boolean[128];

        static {
            for (char c = '0'; c <= '9'; c++) {
                TOKEN[c] = true;
            }
            for (char c = 'a'; c <= 'z'; c++) {
                TOKEN[c] = true;
                TOKEN[Character.toUpperCase(c)] = true;
            }
            for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
                TOKEN[c] = true;
            }
        }

        final int status;
        /** The length the head gives; -1 when it gives none, or gives chunks or another transfer coding. */
        final long contentLength;

        final boolean chunked;
        /** The server keeps the connection open after this response (if the response's end can be told). */
        final boolean keepAlive;
        /** Where the status code starts and the status line's content ends. */
        private final int statusFrom;

        private final int statusTo;
        /** For each header line: its start, the end of its content (before CR LF), and its kind. */
        private int[] lines = new int[24];

        private byte[] kinds = new byte[12];
        private int count;
        /** Header names the Connection header lists (lower case), to be removed; usually none. */
        private List<String> named = List.of();

        private final boolean transferEncoded;
        private final byte[] bytes;
        /** The length was given more than once, or as a list of equal values. */
        private boolean normalizeLength;

        /** {@code bytes}: a whole head, its empty line included. */
        Head(byte[] bytes) {
            this.bytes = bytes;
            int to = bytes.length;
            int lf = indexOf(bytes, 0, to, '\n');
            int lineEnd = contentEnd(bytes, lf);
            if (lineEnd < 12
                    || bytes[0] != 'H'
                    || bytes[1] != 'T'
                    || bytes[2] != 'T'
                    || bytes[3] != 'P'
                    || bytes[4] != '/'
                    || bytes[5] != '1'
                    || bytes[6] != '.'
                    || (bytes[7] != '0' && bytes[7] != '1')
                    || bytes[8] != ' '
                    || !digit(bytes[9])
                    || !digit(bytes[10])
                    || !digit(bytes[11])
                    || (lineEnd > 12 && bytes[12] != ' ')) {
                throw new CorruptedFrameException("malformed status line");
            }
            boolean http11 = bytes[7] == '1';
            status = (bytes[9] - '0') * 100 + (bytes[10] - '0') * 10 + (bytes[11] - '0');
            if (status < 100) {
                throw new CorruptedFrameException("status code below 100");
            }
            statusFrom = 9;
            statusTo = lineEnd;
            checkText(bytes, 12, lineEnd);
            boolean close = false;
            boolean keepAliveToken = false;
            long length = -1;
            boolean sawTransferEncoding = false;
            boolean lastCodingChunked = false;
            int at = lf + 1;
            while (true) {
                lf = indexOf(bytes, at, to, '\n');
                int end = contentEnd(bytes, lf);
                if (end == at) {
                    break; // the empty line
                }
                int colon = checkField(bytes, at, end);
                byte kind = kind(bytes, at, colon - at);
                if (kind == CONTENT_LENGTH) {
                    normalizeLength |= length >= 0 || indexOf(bytes, colon + 1, end, ',') >= 0;
                    length = lengths(bytes, colon + 1, end, length);
                } else if (kind == TRANSFER_ENCODING) {
                    sawTransferEncoding = true;
                    String codings = value(bytes, colon + 1, end);
                    // the final coding is the last of the last header: chunks only if it is "chunked"
                    lastCodingChunked = codings.substring(codings.lastIndexOf(',') + 1)
                            .trim()
                            .equalsIgnoreCase("chunked");
                } else if (kind == CONNECTION && isOnly(bytes, colon + 1, end, "keep-alive")) {
                    keepAliveToken = true; // (the usual values, read without making strings)
                } else if (kind == CONNECTION && isOnly(bytes, colon + 1, end, "close")) {
                    close = true;
                } else if (kind == CONNECTION) {
                    for (String token : value(bytes, colon + 1, end).split(",")) {
                        String name = token.trim().toLowerCase(Locale.ROOT);
                        if (name.equals("close")) {
                            close = true;
                        } else if (name.equals("keep-alive")) {
                            keepAliveToken = true;
                        } else if (!name.isEmpty() && !RequestHeadWriter.FRAMING.contains(name)) {
                            if (named.isEmpty()) {
                                named = new ArrayList<>(2);
                            }
                            named.add(name);
                        }
                    }
                }
                add(at, end, kind);
                at = lf + 1;
            }
            transferEncoded = sawTransferEncoding;
            chunked = sawTransferEncoding && lastCodingChunked;
            contentLength = sawTransferEncoding ? -1 : length; // a transfer coding overrides a length (RFC 9112 6.3)
            // a transfer coding beside a length, or in HTTP/1.0, is an error the connection does not outlive (RFC 9112
            // 6.1)
            keepAlive = (http11 ? !close : keepAliveToken) && !(sawTransferEncoding && (length >= 0 || !http11));
        }

        /** The name's end (its colon) of a field line between {@code at} and {@code end}, which is checked. */
        private static int checkField(byte[] bytes, int at, int end) {
            byte first = bytes[at];
            if (first == ' ' || first == '\t') {
                throw new CorruptedFrameException("folded header line");
            }
            int colon = at;
            while (colon < end && bytes[colon] != ':') {
                byte b = bytes[colon];
                if (b < 0 || !TOKEN[b]) {
                    throw new CorruptedFrameException("header name that is not a token");
                }
                colon++;
            }
            if (colon == at || colon == end) {
                throw new CorruptedFrameException("header line without a name and a colon");
            }
            checkText(bytes, colon + 1, end);
            return colon;
        }

        /**
         * Writes the fields of a chunked body's trailer section (its lines up to and with the empty one) that may go on:
         * checked as header fields are, without framing, hop-by-hop or Connection fields.
         */
        static void writeTrailers(byte[] bytes, ByteBuf out) {
            int at = 0;
            while (true) {
                int lf = indexOf(bytes, at, bytes.length, '\n');
                int end = contentEnd(bytes, lf);
                if (end == at) {
                    return;
                }
                int colon = checkField(bytes, at, end);
                if (kind(bytes, at, colon - at) == OTHER) {
                    out.writeBytes(bytes, at, end - at);
                    out.writeShort(CRLF);
                }
                at = lf + 1;
            }
        }

        /**
         * The head as the visitor gets it: HTTP/1.1, without the hop-by-hop headers, those the Connection header names,
         * a length beside a transfer coding, or (when {@code dropTransferEncoding}) the transfer coding; then
         * {@code extra} (header lines ending in CR LF, or null) and the empty line.
         */
        ByteBuf toVisitor(ByteBufAllocator alloc, boolean dropTransferEncoding, byte[] extra) {
            ByteBuf out = alloc.buffer(bytes.length + (extra == null ? 16 : extra.length + 16));
            boolean lengthWritten = false;
            out.writeBytes(HTTP_11);
            out.writeBytes(bytes, statusFrom, statusTo - statusFrom);
            out.writeShort(CRLF);
            for (int i = 0; i < count; i++) {
                byte kind = kinds[i];
                int from = lines[2 * i];
                int to = lines[2 * i + 1];
                if (kind == HOP
                        || kind == CONNECTION
                        || (kind == CONTENT_LENGTH && transferEncoded)
                        || (kind == TRANSFER_ENCODING && dropTransferEncoding)
                        || (!named.isEmpty() && isNamed(from))) {
                    continue;
                }
                if (kind == CONTENT_LENGTH && normalizeLength) { // "5, 5" or repeated: one "Content-Length: 5"
                    if (!lengthWritten) {
                        out.writeCharSequence("Content-Length: " + contentLength, StandardCharsets.US_ASCII);
                        out.writeShort(CRLF);
                        lengthWritten = true;
                    }
                    continue;
                }
                out.writeBytes(bytes, from, to - from);
                out.writeShort(CRLF);
            }
            if (extra != null) {
                out.writeBytes(extra);
            }
            out.writeShort(CRLF);
            return out;
        }

        private boolean isNamed(int from) {
            int colon = indexOf(bytes, from, bytes.length, ':');
            for (String name : named) {
                if (name.length() == colon - from && equalsIgnoreCase(bytes, from, name)) {
                    return true;
                }
            }
            return false;
        }

        private void add(int from, int to, byte kind) {
            if (count == kinds.length) {
                kinds = Arrays.copyOf(kinds, count * 2);
                lines = Arrays.copyOf(lines, count * 4);
            }
            lines[2 * count] = from;
            lines[2 * count + 1] = to;
            kinds[count++] = kind;
        }

        /** What a header is to the front door, by its name (compared without case; by length first, so cheaply). */
        private static byte kind(byte[] in, int at, int length) {
            return switch (length) {
                case 2 -> equalsIgnoreCase(in, at, "te") ? HOP : OTHER;
                case 7 -> equalsIgnoreCase(in, at, "trailer") || equalsIgnoreCase(in, at, "upgrade") ? HOP : OTHER;
                case 10 ->
                    equalsIgnoreCase(in, at, "connection")
                            ? CONNECTION
                            : equalsIgnoreCase(in, at, "keep-alive") ? HOP : OTHER;
                case 14 -> equalsIgnoreCase(in, at, "content-length") ? CONTENT_LENGTH : OTHER;
                // WWW-Authenticate too: a session must not make the browser ask for a password on the portal's origin
                case 16 ->
                    equalsIgnoreCase(in, at, "proxy-connection") || equalsIgnoreCase(in, at, "www-authenticate")
                            ? HOP
                            : OTHER;
                case 17 -> equalsIgnoreCase(in, at, "transfer-encoding") ? TRANSFER_ENCODING : OTHER;
                case 18 -> equalsIgnoreCase(in, at, "proxy-authenticate") ? HOP : OTHER;
                default -> OTHER;
            };
        }

        /** Whether a field value (between {@code from} and {@code to}, spaces around it) is {@code lower} in any case. */
        private static boolean isOnly(byte[] in, int from, int to, String lower) {
            while (from < to && (in[from] == ' ' || in[from] == '\t')) {
                from++;
            }
            while (to > from && (in[to - 1] == ' ' || in[to - 1] == '\t')) {
                to--;
            }
            return to - from == lower.length() && equalsIgnoreCase(in, from, lower);
        }

        /** Whether the bytes at {@code at} are {@code lower} (lower-case ASCII) in any case. */
        private static boolean equalsIgnoreCase(byte[] in, int at, String lower) {
            for (int i = 0; i < lower.length(); i++) {
                int b = in[at + i];
                if (b >= 'A' && b <= 'Z') {
                    b += 'a' - 'A';
                }
                if (b != lower.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        /** A Content-Length value (a list of equal numbers, RFC 9110 8.6), checked against one seen before (or -1). */
        private static long lengths(byte[] in, int from, int to, long before) {
            long length = before;
            int i = from;
            while (true) {
                while (i < to && (in[i] == ' ' || in[i] == '\t')) {
                    i++;
                }
                long value = 0;
                int digits = 0;
                while (i < to && digit(in[i])) {
                    if (++digits > 18) {
                        throw new CorruptedFrameException("Content-Length too large");
                    }
                    value = value * 10 + (in[i++] - '0');
                }
                while (i < to && (in[i] == ' ' || in[i] == '\t')) {
                    i++;
                }
                if (digits == 0 || (i < to && in[i] != ',')) {
                    throw new CorruptedFrameException("Content-Length that is not a number");
                }
                if (length >= 0 && value != length) {
                    throw new CorruptedFrameException("Content-Length values that differ");
                }
                length = value;
                if (i == to) {
                    return length;
                }
                i++; // past the comma
            }
        }

        private static String value(byte[] in, int from, int to) {
            return new String(in, from, to - from, StandardCharsets.ISO_8859_1).trim();
        }

        private static int indexOf(byte[] in, int from, int to, char c) {
            for (int i = from; i < to; i++) {
                if (in[i] == c) {
                    return i;
                }
            }
            return -1;
        }

        /** Field values and reason phrases: no control characters but tab (obs-text, bytes 0x80 and up, is allowed). */
        private static void checkText(byte[] in, int from, int to) {
            for (int i = from; i < to; i++) {
                byte b = in[i];
                if ((b >= 0 && b < ' ' && b != '\t') || b == 0x7f) {
                    throw new CorruptedFrameException("control character in a response head");
                }
            }
        }

        /** The end of a line's content: before its CR LF, or its lone LF. */
        private static int contentEnd(byte[] in, int lf) {
            return lf > 0 && in[lf - 1] == '\r' ? lf - 1 : lf;
        }

        private static boolean digit(byte b) {
            return b >= '0' && b <= '9';
        }
    }
}
