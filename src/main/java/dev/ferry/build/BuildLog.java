package dev.ferry.build;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.ferry.HeadAndTail;

/**
 * The log of one build: phase changes and output lines, in order, kept in memory and delivered live to every watcher.
 * What is kept is bounded ({@code ferry.build.log.*}): the first and the last lines, with the middle counted and
 * replaced by a line saying how much was not shown; a line too long is cut. A watcher that subscribes late first
 * receives what is kept, then what follows.
 */
public final class BuildLog {

    /** One entry: a line of output, or a phase change when {@code phaseChange} is true. */
    public record Entry(Phase phase, String text, boolean phaseChange) {}

    private final BuildProperties.Log limits;
    private final HeadAndTail<Entry> kept;
    private final List<Consumer<Entry>> watchers = new ArrayList<>();
    private Phase phase = Phase.WAITING;

    /** A log with the default bounds. */
    public BuildLog() {
        this(BuildProperties.Log.DEFAULTS);
    }

    public BuildLog(BuildProperties.Log limits) {
        this.limits = limits;
        this.kept = new HeadAndTail<>(
                limits.maxLines(),
                limits.maxBytes().toBytes(),
                e -> e.text() == null ? 0 : HeadAndTail.utf8Length(e.text()));
    }

    public synchronized void phase(Phase newPhase, String message) {
        phase = newPhase;
        publish(new Entry(newPhase, message, true));
    }

    /** A line of output; kept ending with a newline, so that every launch relaying it shares this one string. */
    public synchronized void line(String text) {
        String kept = cut(text == null ? "" : text, limits.maxLineLength());
        publish(new Entry(phase, kept.endsWith("\n") ? kept : kept + "\n", false));
    }

    /** {@code text} cut at {@code max} characters, saying so (unless a {@link BoundedLineReader} cut it already). */
    static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = text.endsWith("\n") ? text.length() - 1 : text.length();
        int note = text.lastIndexOf(BoundedLineReader.CUT, end);
        if (note >= 0
                && note <= max
                && end - note <= BoundedLineReader.CUT.length() + 20
                && text.startsWith(" bytes)", end - " bytes)".length())) {
            return text;
        }
        return text.substring(0, max) + BoundedLineReader.CUT + max + " characters)";
    }

    /** The bounds of this log ({@code ferry.build.log.*}). */
    public BuildProperties.Log limits() {
        return limits;
    }

    public synchronized Phase currentPhase() {
        return phase;
    }

    /** The last {@code n} output lines, joined, for failure messages. */
    public synchronized String tail(int n) {
        List<String> lines = new ArrayList<>();
        List<Entry> entries = new ArrayList<>(kept.head());
        if (kept.dropped() > 0) {
            entries.add(notShown());
        }
        entries.addAll(kept.tail());
        for (int i = entries.size() - 1; i >= 0 && lines.size() < n; i--) {
            Entry e = entries.get(i);
            if (!e.phaseChange()) {
                lines.add(
                        0,
                        e.text().endsWith("\n") ? e.text().substring(0, e.text().length() - 1) : e.text());
            }
        }
        return String.join("\n", lines);
    }

    /** Replays what is kept to the watcher, then delivers every new entry until {@link #unsubscribe}. */
    public synchronized void subscribe(Consumer<Entry> watcher) {
        kept.head().forEach(watcher);
        if (kept.dropped() > 0) {
            watcher.accept(notShown());
        }
        kept.tail().forEach(watcher);
        watchers.add(watcher);
    }

    public synchronized void unsubscribe(Consumer<Entry> watcher) {
        watchers.remove(watcher);
    }

    /**
     * The build is over: its log is kept among the recent builds (the operator's dashboard) and keeps from now on only
     * its first and last lines within 400 lines and 256 KB, so that many finished noisy builds do not add up.
     */
    public synchronized void finished() {
        kept.shrink(400, Math.min(256 * 1024, limits.maxBytes().toBytes()));
    }

    /** The bytes of output this log holds now (at most {@code ferry.build.log.max-bytes}). */
    public synchronized long keptBytes() {
        return kept.keptBytes();
    }

    private Entry notShown() {
        return new Entry(
                phase,
                HeadAndTail.notShown(kept.dropped(), kept.droppedBytes())
                        + " (a build log keeps its first and last lines, up to " + limits.maxLines() + " lines and "
                        + HeadAndTail.bytes(limits.maxBytes().toBytes()) + ")\n",
                false);
    }

    private void publish(Entry entry) {
        kept.add(entry);
        for (Consumer<Entry> watcher : List.copyOf(watchers)) {
            watcher.accept(entry);
        }
    }
}
