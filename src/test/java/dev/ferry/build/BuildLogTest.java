package dev.ferry.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class BuildLogTest {

    @Test
    void keepsTheLastMaxLinesAndSaysHowManyWereDroppedAndWhy() {
        BuildLog log = new BuildLog();
        for (int i = 0; i < BuildLog.MAX_LINES + 25; i++) {
            log.line("line " + i);
        }
        List<BuildLog.Entry> seen = new ArrayList<>();
        log.subscribe(seen::add);

        assertThat(seen).hasSize(BuildLog.MAX_LINES + 1);
        assertThat(seen.get(0).text()).isEqualTo("… 25 earlier log lines not kept (a build keeps its last 10000 lines) …");
        assertThat(seen.get(1).text()).isEqualTo("line 25");
        assertThat(seen.get(seen.size() - 1).text()).isEqualTo("line " + (BuildLog.MAX_LINES + 24));
    }

    @Test
    void cutsAnEndlessLineAndSaysWhere() {
        BuildLog log = new BuildLog();
        log.line("x".repeat(1_000_000));
        String kept = log.tail(1);
        assertThat(kept).hasSizeLessThan(BuildLog.MAX_LINE_LENGTH + 100).endsWith("… (line cut at 4096 characters)");
    }
}
