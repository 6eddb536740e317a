package dev.ferry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * A sequence bounded in items and in bytes that keeps its beginning and its end: the first half of each bound fills
 * with the first items, the second half always holds the latest ones, and what falls in between is counted, not kept.
 * Items are numbered from 0 in the order they were added, kept or not. Not thread-safe: its owner guards it.
 */
public final class HeadAndTail<T> {

    private int headLines;
    private long headBytes;
    private int tailLines;
    private long tailBytes;
    private final ToLongFunction<T> size;
    private final List<T> head = new ArrayList<>();
    private long headSize;
    private boolean headFull;
    /** The tail is {@code tail[tailStart..]}: removing from the front moves {@code tailStart}, compacted now and then. */
    private final List<T> tail = new ArrayList<>();

    private final List<Long> tailSizes = new ArrayList<>();
    private int tailStart;
    private long tailSize;
    private long added;
    private long droppedBytes;

    /**
     * @param maxItems at least 2: one for the head, one for the tail
     * @param maxBytes at least 2
     * @param size     the bytes an item counts for
     */
    public HeadAndTail(int maxItems, long maxBytes, ToLongFunction<T> size) {
        if (maxItems < 2 || maxBytes < 2) {
            throw new IllegalArgumentException("A head and a tail need at least 2 items and 2 bytes.");
        }
        this.headLines = maxItems / 2;
        this.headBytes = maxBytes / 2;
        this.tailLines = maxItems - headLines;
        this.tailBytes = maxBytes - headBytes;
        this.size = size;
    }

    public void add(T item) {
        long bytes = size.applyAsLong(item);
        added++;
        if (!headFull && head.size() < headLines && headSize + bytes <= headBytes) {
            head.add(item);
            headSize += bytes;
            return;
        }
        headFull = true; // once an item went past the head, nothing later may go before it
        tail.add(item);
        tailSizes.add(bytes);
        tailSize += bytes;
        trimTail();
        if (tailStart > 1024 && tailStart > tail.size() / 2) {
            compactTail();
        }
    }

    /** Drops the oldest items of the tail beyond its bounds; the newest item stays whatever its size. */
    private void trimTail() {
        while (tailCount() > 1 && (tailCount() > tailLines || tailSize > tailBytes)) {
            tailSize -= tailSizes.get(tailStart);
            droppedBytes += tailSizes.get(tailStart);
            tail.set(tailStart, null);
            tailStart++;
        }
    }

    /** Frees the slots of dropped tail items (they are only marked, so that dropping one is cheap). */
    private void compactTail() {
        tail.subList(0, tailStart).clear();
        tailSizes.subList(0, tailStart).clear();
        tailStart = 0;
    }

    /**
     * Lowers the bounds to {@code maxItems} and {@code maxBytes} (never raises them), keeping the beginning and the end
     * as adding under those bounds would have: the last item added is always kept, numbers do not change, and what is
     * let go counts as dropped. For a sequence that is complete and kept only to be read again.
     */
    public void shrink(int maxItems, long maxBytes) {
        if (maxItems < 2 || maxBytes < 2) {
            throw new IllegalArgumentException("A head and a tail need at least 2 items and 2 bytes.");
        }
        int newHeadLines = Math.min(headLines, maxItems / 2);
        long newHeadBytes = Math.min(headBytes, maxBytes / 2);
        int newTailLines = Math.min(tailLines, maxItems - maxItems / 2);
        long newTailBytes = Math.min(tailBytes, maxBytes - maxBytes / 2);
        if (dropped() == 0) {
            // nothing is missing yet: add everything again under the new bounds
            List<T> all = new ArrayList<>(head);
            all.addAll(tail());
            head.clear();
            tail.clear();
            tailSizes.clear();
            tailStart = 0;
            headSize = tailSize = added = droppedBytes = 0;
            headFull = false;
            headLines = newHeadLines;
            headBytes = newHeadBytes;
            tailLines = newTailLines;
            tailBytes = newTailBytes;
            all.forEach(this::add);
            return;
        }
        headLines = newHeadLines;
        headBytes = newHeadBytes;
        tailLines = newTailLines;
        tailBytes = newTailBytes;
        while (!head.isEmpty() && (head.size() > headLines || headSize > headBytes)) {
            long bytes = size.applyAsLong(head.remove(head.size() - 1));
            headSize -= bytes;
            droppedBytes += bytes;
        }
        trimTail();
        compactTail();
    }

    /** Items ever added. */
    public long added() {
        return added;
    }

    /** Items added but not kept (between the head and the tail). */
    public long dropped() {
        return added - head.size() - tailCount();
    }

    /** The bytes of the items not kept. */
    public long droppedBytes() {
        return droppedBytes;
    }

    /** The number of the first item of the tail: items from {@link #headCount()} up to it were dropped. */
    public long tailStart() {
        return added - tailCount();
    }

    public int headCount() {
        return head.size();
    }

    /** The first items, in order. */
    public List<T> head() {
        return List.copyOf(head);
    }

    /** The last items, in order. */
    public List<T> tail() {
        return tailFrom(0);
    }

    /** The items of the head numbered {@code from} or later, in order. */
    public List<T> headFrom(long from) {
        return from >= head.size() ? List.of() : List.copyOf(head.subList((int) Math.max(from, 0), head.size()));
    }

    /** The items of the tail numbered {@code from} or later, in order. */
    public List<T> tailFrom(long from) {
        int skip = (int) Math.min(Math.max(0, from - tailStart()), tailCount());
        return List.copyOf(tail.subList(tailStart + skip, tail.size()));
    }

    /** The bytes the kept items count for. */
    public long keptBytes() {
        return headSize + tailSize;
    }

    private int tailCount() {
        return tail.size() - tailStart;
    }

    /** The line shown in place of what was not kept, e.g. {@code … 1,204 lines (4.7 MB) not shown …}. */
    public static String notShown(long lines, long bytes) {
        return String.format(
                Locale.ROOT,
                "… %,d %s%s not shown …",
                lines,
                lines == 1 ? "line" : "lines",
                bytes >= 0 ? " (" + bytes(bytes) + ")" : "");
    }

    /** {@code 812 bytes}, {@code 4.7 MB}: sizes as people read them (1 MB = 1,048,576 bytes). */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + (n == 1 ? " byte" : " bytes");
        }
        String[] units = {"KB", "MB", "GB", "TB"};
        double value = n;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /** The length of {@code text} in UTF-8, without encoding it. */
    public static long utf8Length(String text) {
        long n = text.length();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                n += c < 0x800 ? 1 : Character.isSurrogate(c) ? 0 : 2; // a surrogate pair is 4 bytes, 2 chars
            }
        }
        return n;
    }
}
