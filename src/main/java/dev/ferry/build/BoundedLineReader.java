package dev.ferry.build;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads the output of a build step (a process, a pod's log) line by line, like {@link java.io.BufferedReader#readLine},
 * but never holds more than {@code maxLineBytes} of one line: a longer line is returned cut there, saying so, as soon
 * as that much has arrived, and the rest of it is skipped as it comes. A program that prints without a newline costs
 * a bounded amount of memory. Lines end at {@code \n}, {@code \r\n} or {@code \r} (progress bars); UTF-8.
 */
public final class BoundedLineReader implements Closeable {

    /** What a cut line ends with, before the number. */
    static final String CUT = " … (line cut at ";

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] buffer = new byte[8192];
    private int pos;
    private int limit;
    private byte[] line;
    private int length;
    /** The last line ended with {@code \r}: a {@code \n} right after it ends nothing. */
    private boolean afterCr;
    /** The rest of a cut line is being skipped. */
    private boolean skipping;

    public BoundedLineReader(InputStream in, int maxLineBytes) {
        if (maxLineBytes < 4) {
            throw new IllegalArgumentException("A line needs room for at least one character (4 bytes).");
        }
        this.in = in;
        this.maxLineBytes = maxLineBytes;
        this.line = new byte[Math.min(maxLineBytes, 256)];
    }

    /** The next line without its end, or null at the end of the stream. */
    public String readLine() throws IOException {
        while (true) {
            if (pos == limit) {
                limit = in.read(buffer, 0, buffer.length);
                pos = 0;
                if (limit <= 0) {
                    limit = 0;
                    boolean pending = length > 0;
                    skipping = false;
                    return pending ? take() : null;
                }
            }
            byte b = buffer[pos];
            if (afterCr) {
                afterCr = false;
                if (b == '\n') {
                    pos++;
                    continue;
                }
            }
            if (b == '\n' || b == '\r') {
                pos++;
                afterCr = b == '\r';
                if (skipping) {
                    skipping = false;
                    continue;
                }
                return take();
            }
            int end = pos;
            while (end < limit && buffer[end] != '\n' && buffer[end] != '\r') {
                end++;
            }
            if (skipping) {
                pos = end;
                continue;
            }
            int room = maxLineBytes - length;
            int n = end - pos;
            if (n <= room) {
                append(pos, n);
                pos = end;
                continue;
            }
            append(pos, room);
            pos += room;
            skipping = true;
            return cutLine(buffer[pos]);
        }
    }

    private void append(int from, int n) {
        if (length + n > line.length) {
            byte[] bigger = new byte[Math.min(maxLineBytes, Math.max(line.length * 2, length + n))];
            System.arraycopy(line, 0, bigger, 0, length);
            line = bigger;
        }
        System.arraycopy(buffer, from, line, length, n);
        length += n;
    }

    /** The line so far, cut at a character's start ({@code next} is the first byte left out), with the note. */
    private String cutLine(byte next) {
        int end = length;
        if ((next & 0xC0) == 0x80) { // the cut falls inside a character: leave all of it out
            while (end > 0 && (line[end - 1] & 0xC0) == 0x80) {
                end--;
            }
            if (end > 0) {
                end--;
            }
        }
        String text = new String(line, 0, end, StandardCharsets.UTF_8) + CUT + maxLineBytes + " bytes)";
        length = 0;
        return text;
    }

    private String take() {
        String text = new String(line, 0, length, StandardCharsets.UTF_8);
        length = 0;
        if (line.length > 4096) {
            line = new byte[256]; // one long line should not keep a big buffer for every line after it
        }
        return text;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
