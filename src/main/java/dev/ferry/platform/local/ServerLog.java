package dev.ferry.platform.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A notebook server's output, written to its {@code server.log} within a bound: the first {@code maxBytes} as they
 * come, then only the last {@link #TAIL_BYTES}, which are added with a line saying how much was left out when the
 * output ends. A repository's {@code start} script or notebook that prints without end cannot fill Ferry's disk.
 * One daemon thread per server reads its output; the server blocks on a full pipe if that thread falls behind, as it
 * would on a slow terminal.
 */
final class ServerLog {

    /** What is kept of the output past the bound, for the failure messages that quote a log's last lines. */
    static final int TAIL_BYTES = 16 * 1024;

    private final Path file;
    private final long maxBytes;
    private final byte[] tail = new byte[TAIL_BYTES];
    private long written;
    private long dropped;
    private int tailEnd;
    private boolean tailFull;

    private ServerLog(Path file, long maxBytes) {
        this.file = file;
        this.maxBytes = maxBytes;
    }

    /** Starts copying {@code output} to {@code file}; the thread ends when the output does. */
    static Thread pump(InputStream output, Path file, long maxBytes, String name) {
        ServerLog log = new ServerLog(file, maxBytes);
        Thread t = new Thread(() -> log.copy(output), name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void copy(InputStream output) {
        byte[] buf = new byte[8192];
        try (InputStream in = output;
                OutputStream out = Files.newOutputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                int head = (int) Math.max(0, Math.min(n, maxBytes - written));
                if (head > 0) {
                    out.write(buf, 0, head);
                    out.flush(); // the log is read while the server runs (its last lines, when it fails)
                    written += head;
                }
                if (head < n) {
                    keep(buf, head, n - head);
                }
            }
            if (dropped > 0) {
                long shown = tailFull ? TAIL_BYTES : tailEnd;
                out.write(("\n… " + (dropped - shown)
                                + " bytes of the server's output not kept (ferry.local.max-server-log " + "is "
                                + maxBytes + " bytes); its last " + shown + " bytes follow …\n")
                        .getBytes(StandardCharsets.UTF_8));
                if (tailFull) {
                    out.write(tail, tailEnd, TAIL_BYTES - tailEnd);
                }
                out.write(tail, 0, tailEnd);
            }
        } catch (IOException e) {
            // the session's folder is gone (the session ended) or the disk refused: the server goes on without a log
        }
    }

    /** Keeps the last {@link #TAIL_BYTES} of what goes past the bound, in a ring. */
    private void keep(byte[] buf, int from, int length) {
        dropped += length;
        while (length > 0) {
            int n = Math.min(length, TAIL_BYTES - tailEnd);
            System.arraycopy(buf, from, tail, tailEnd, n);
            tailEnd += n;
            from += n;
            length -= n;
            if (tailEnd == TAIL_BYTES) {
                tailEnd = 0;
                tailFull = true;
            }
        }
    }
}
