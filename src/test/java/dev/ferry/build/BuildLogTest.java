package dev.ferry.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class BuildLogTest {

    private static List<String> texts(BuildLog log) {
        List<BuildLog.Entry> seen = new ArrayList<>();
        log.subscribe(seen::add);
        return seen.stream().map(BuildLog.Entry::text).toList();
    }

    @Test
    void linesAreKeptEndingWithOneNewlineAndTheTailShowsThemWithout() {
        BuildLog log = new BuildLog();
        log.line("plain");
        log.line("relayed from a pod log\n");
        assertThat(texts(log)).containsExactly("plain\n", "relayed from a pod log\n");
        assertThat(log.tail(5)).isEqualTo("plain\nrelayed from a pod log");
    }

    @Test
    void keepsTheFirstAndLastLinesAtTheLineBoundAndSaysHowManyWereNotShown() {
        BuildLog log = new BuildLog(new BuildProperties.Log(10, DataSize.ofMegabytes(1), 4096));
        for (int i = 0; i < 25; i++) {
            log.line("line " + i);
        }

        List<String> seen = texts(log);

        assertThat(seen).hasSize(11);
        assertThat(seen.subList(0, 5)).containsExactly("line 0\n", "line 1\n", "line 2\n", "line 3\n", "line 4\n");
        assertThat(seen.get(5))
                .startsWith("… 15 lines (115 bytes) not shown …")
                .contains("first and last lines, up to 10 lines and 1.0 MB");
        assertThat(seen.subList(6, 11))
                .containsExactly("line 20\n", "line 21\n", "line 22\n", "line 23\n", "line 24\n");
    }

    @Test
    void keepsTheFirstAndLastLinesAtTheByteBound() {
        BuildLog log = new BuildLog(new BuildProperties.Log(10_000, DataSize.ofBytes(1000), 4096));
        for (int i = 0; i < 50; i++) {
            log.line(String.format("%03d", i) + "x".repeat(96)); // 100 bytes each, with the newline
        }

        List<String> seen = texts(log);

        assertThat(seen).hasSize(11);
        assertThat(seen.get(0)).startsWith("000");
        assertThat(seen.get(4)).startsWith("004");
        assertThat(seen.get(5)).startsWith("… 40 lines (3.9 KB) not shown …");
        assertThat(seen.get(6)).startsWith("045");
        assertThat(seen.get(10)).startsWith("049");
        assertThat(log.keptBytes()).isEqualTo(1000);
        assertThat(log.tail(2)).isEqualTo(seen.get(9) + seen.get(10).strip());
    }

    @Test
    void aFloodOfLongLinesKeepsNoMoreThanTheBoundInBytes() {
        BuildProperties.Log limits = BuildProperties.Log.DEFAULTS;
        BuildLog log = new BuildLog(limits);
        String line = "é".repeat(1999) + "x"; // 4000 bytes of UTF-8 with the newline
        for (int i = 0; i < 50_000; i++) {
            log.line(line);
        }

        assertThat(log.keptBytes())
                .isLessThanOrEqualTo(limits.maxBytes().toBytes())
                .isGreaterThan(limits.maxBytes().toBytes() - 8000);
        assertThat(texts(log))
                .contains(log.tail(1) + "\n")
                .anyMatch(t -> t.startsWith("… 48,952 lines (186.7 MB) not shown …"));
    }

    @Test
    void cutsAnEndlessLineAndSaysWhere() {
        BuildLog log = new BuildLog();
        log.line("x".repeat(1_000_000));
        String kept = log.tail(1);
        assertThat(kept)
                .hasSize(4096 + " … (line cut at 4096 characters)".length())
                .endsWith("… (line cut at 4096 characters)");
    }

    @Test
    void aLineTheReaderCutAlreadyIsNotCutTwice() {
        BuildLog log = new BuildLog(new BuildProperties.Log(100, DataSize.ofMegabytes(1), 10));
        log.line("0123456789" + BoundedLineReader.CUT + "10 bytes)\n");
        assertThat(log.tail(1)).isEqualTo("0123456789 … (line cut at 10 bytes)");
    }
}
