package dev.ferry.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

class BoundedLineReaderTest {

    private static List<String> lines(InputStream in, int max) throws IOException {
        List<String> lines = new ArrayList<>();
        try (BoundedLineReader reader = new BoundedLineReader(in, max)) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
            }
        }
        return lines;
    }

    private static InputStream bytes(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code n} bytes of {@code b}, produced as they are read: the 10 MB never exist in the test either. */
    private static InputStream repeated(byte b, long n) {
        return new InputStream() {
            long left = n;

            @Override
            public int read() {
                return left-- > 0 ? b : -1;
            }

            @Override
            public int read(byte[] buf, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int k = (int) Math.min(len, left);
                java.util.Arrays.fill(buf, off, off + k, b);
                left -= k;
                return k;
            }
        };
    }

    @Test
    void readsLinesLikeReadLine() throws IOException {
        assertThat(lines(bytes("one\ntwo\r\nthree\rfour\n\nlast"), 100))
                .containsExactly("one", "two", "three", "four", "", "last");
    }

    @Test
    void cutsATenMegabyteLineAtTheCapAndGoesOnWithTheNextLine() throws IOException {
        InputStream in = new SequenceInputStream(Collections.enumeration(
                List.of(bytes("before\n"), repeated((byte) 'x', 10L * 1024 * 1024), bytes("\nafter\n"))));

        List<String> lines = lines(in, 4096);

        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("before");
        assertThat(lines.get(1)).isEqualTo("x".repeat(4096) + " … (line cut at 4096 bytes)");
        assertThat(lines.get(2)).isEqualTo("after");
    }

    @Test
    void anEndlessLineIsGivenAsSoonAsTheCapIsReached() throws IOException {
        InputStream endless = new SequenceInputStream(bytes("y".repeat(5000)), new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("the reader waited for the end of an endless line");
            }
        });
        try (BoundedLineReader reader = new BoundedLineReader(endless, 1000)) {
            assertThat(reader.readLine()).isEqualTo("y".repeat(1000) + " … (line cut at 1000 bytes)");
        }
    }

    @Test
    void aLineWithoutNewlineAtTheEndIsCutToo() throws IOException {
        assertThat(lines(repeated((byte) 'z', 50_000_000), 100))
                .containsExactly("z".repeat(100) + " … (line cut at 100 bytes)");
    }

    @Test
    void neverCutsInsideACharacter() throws IOException {
        // "é" is 2 bytes: a cap of 5 bytes holds 2 of them and half of the third, which is left out whole
        assertThat(lines(bytes("ééé\nok\n"), 5)).containsExactly("éé … (line cut at 5 bytes)", "ok");
    }

    @Test
    void aLineOfExactlyTheCapIsWhole() throws IOException {
        assertThat(lines(bytes("abcd\nefgh"), 4)).containsExactly("abcd", "efgh");
    }
}
