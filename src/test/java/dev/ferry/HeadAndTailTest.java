package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Shrinking a head-and-tail keeps what adding under the smaller bounds would have kept, the last item always. */
class HeadAndTailTest {

    private static HeadAndTail<Integer> numbers(int count, int maxItems) {
        HeadAndTail<Integer> h = new HeadAndTail<>(maxItems, Long.MAX_VALUE / 4, i -> 1);
        for (int i = 0; i < count; i++) {
            h.add(i);
        }
        return h;
    }

    private static List<Integer> kept(HeadAndTail<Integer> h) {
        List<Integer> all = new ArrayList<>(h.head());
        all.addAll(h.tail());
        return all;
    }

    @Test
    void shrinkingWhatFitsInTheHeadKeepsItsBeginningAndItsLastItem() {
        HeadAndTail<Integer> h = numbers(100, 1000); // all 100 in the head

        h.shrink(10, 1000);

        assertThat(kept(h)).containsExactly(0, 1, 2, 3, 4, 95, 96, 97, 98, 99);
        assertThat(h.dropped()).isEqualTo(90);
        assertThat(h.tailStart()).isEqualTo(95);
        assertThat(h.added()).isEqualTo(100);
    }

    @Test
    void shrinkingAfterADropTakesFromTheEndOfTheHeadAndTheFrontOfTheTail() {
        HeadAndTail<Integer> h = numbers(100, 20); // 0..9 and 90..99

        h.shrink(6, 1000);

        assertThat(kept(h)).containsExactly(0, 1, 2, 97, 98, 99);
        assertThat(h.dropped()).isEqualTo(94);
        assertThat(h.tailStart()).isEqualTo(97);
        assertThat(h.headFrom(1)).containsExactly(1, 2);
    }

    @Test
    void shrinkingNeverRaisesTheBounds() {
        HeadAndTail<Integer> h = numbers(100, 20);

        h.shrink(1000, 1000);

        assertThat(kept(h)).hasSize(20);
    }
}
