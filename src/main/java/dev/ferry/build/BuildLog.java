package dev.ferry.build;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * The log of one build: phase changes and output lines, in order, kept in memory (the last {@link #MAX_LINES}) and
 * delivered live to every watcher. A watcher that subscribes late first receives what is kept, then what follows.
 */
public final class BuildLog {

    public static final int MAX_LINES = 10_000;
    /** Longer output lines are cut: a build that prints one endless line must not fill the portal's memory. */
    public static final int MAX_LINE_LENGTH = 4_096;

    /** One entry: a line of output, or a phase change when {@code phaseChange} is true. */
    public record Entry(String phase, String text, boolean phaseChange) {
    }

    private final Deque<Entry> kept = new ArrayDeque<>();
    private final List<Consumer<Entry>> watchers = new ArrayList<>();
    private long dropped;
    private String phase = "waiting";

    public synchronized void phase(String newPhase, String message) {
        phase = newPhase;
        publish(new Entry(newPhase, message, true));
    }

    public synchronized void line(String text) {
        String kept = text != null && text.length() > MAX_LINE_LENGTH
                ? text.substring(0, MAX_LINE_LENGTH) + " … (line cut at " + MAX_LINE_LENGTH + " characters)"
                : text;
        publish(new Entry(phase, kept, false));
    }

    public synchronized String currentPhase() {
        return phase;
    }

    /** The last {@code n} output lines, joined, for failure messages. */
    public synchronized String tail(int n) {
        List<String> lines = new ArrayList<>();
        for (var it = kept.descendingIterator(); it.hasNext() && lines.size() < n; ) {
            Entry e = it.next();
            if (!e.phaseChange()) {
                lines.add(0, e.text());
            }
        }
        return String.join("\n", lines);
    }

    /** Replays what is kept to the watcher, then delivers every new entry until {@link #unsubscribe}. */
    public synchronized void subscribe(Consumer<Entry> watcher) {
        if (dropped > 0) {
            watcher.accept(new Entry(phase, "… " + dropped + " earlier log lines not kept (a build keeps its last "
                    + MAX_LINES + " lines) …", false));
        }
        kept.forEach(watcher);
        watchers.add(watcher);
    }

    public synchronized void unsubscribe(Consumer<Entry> watcher) {
        watchers.remove(watcher);
    }

    private void publish(Entry entry) {
        kept.addLast(entry);
        if (kept.size() > MAX_LINES) {
            kept.removeFirst();
            dropped++;
        }
        for (Consumer<Entry> watcher : List.copyOf(watchers)) {
            watcher.accept(entry);
        }
    }
}
