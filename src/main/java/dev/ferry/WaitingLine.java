package dev.ferry;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A first-come-first-served line of things waiting for something scarce: launches for a seat, workshop attendees for
 * a seat of their workshop, builds for a build slot. It keeps the order, tells each waiter its position in the owner's
 * words ("You are 3rd in line…") when the sentence changes and every 30 seconds, and makes a waiter leave when nobody
 * waits for it any more ({@code leave-after}), when it waited too long ({@code max-wait}) or, at joining, when the line
 * is full ({@code max-length}).
 * <p>
 * The line is guarded by its owner's monitor, so that what the owner hands out (a seat) and the line moving are one
 * step: the owner serves the line under that monitor, and waiters are woken by the change rather than by polling;
 * they still look at least every second, to notice a client gone or a wait too long.
 *
 * @param <T> what waits in line (the owner's ticket)
 */
public final class WaitingLine<T> {

    /** A waiter whose sentence did not change is told it again this often (a fresh estimate, a sign of life). */
    static final Duration ANNOUNCE_EVERY = Duration.ofSeconds(30);
    /** The longest a waiter sleeps without looking: how late leave-after and max-wait may be noticed. */
    static final Duration LOOK_EVERY = Duration.ofSeconds(1);

    /**
     * The bounds of a line.
     *
     * @param maxLength  tickets that may wait at once (0: no bound); one more is refused with {@link Words#full}
     * @param maxWait    a waiter that waited this long fails with {@link Words#waitedTooLong}
     * @param leaveAfter a waiter nobody waited for during this long leaves with {@link Words#left}
     */
    public record Limits(int maxLength, Duration maxWait, Duration leaveAfter) {

        /** No bound: for a line whose tickets leave only when their owner takes them out (builds). */
        public static final Limits NONE =
                new Limits(0, ChronoUnit.FOREVER.getDuration(), ChronoUnit.FOREVER.getDuration());
    }

    /**
     * What a line says, in its owner's words: the position sentence, and the errors a waiter fails with (general ones
     * unless the owner has its own).
     */
    @FunctionalInterface
    public interface Words<T> {

        /** The sentence for {@code item} at {@code position} (1: next), asked under the line's monitor. */
        String position(int position, T item);

        default FerryException full(int waiting) {
            return new FerryException(
                    503,
                    waiting + " are already waiting in line, the most this Ferry lets wait. "
                            + "Try again in a few minutes.");
        }

        default FerryException waitedTooLong(Duration maxWait) {
            return new FerryException(
                    503, "Nothing became free within " + Durations.human(maxWait) + ". Try again later.");
        }

        default FerryException left() {
            return new FerryException(499, "Left the line: nobody was waiting any more.");
        }
    }

    /** What a waiter found when it looked, under the line's monitor: what it waited for, or why it waits on. */
    public record Look<R>(R served, String sentence) {

        /** The wait is over: {@code value} is what the waiter waited for. */
        public static <R> Look<R> served(R value) {
            return new Look<>(value, null);
        }

        /** Still waiting, told its position. */
        public static <R> Look<R> inLine() {
            return new Look<>(null, null);
        }

        /** Still waiting, told {@code sentence} instead of its position. */
        public static <R> Look<R> saying(String sentence) {
            return new Look<>(null, sentence);
        }
    }

    /** One waiter's look at the line, asked under its monitor whenever the line changes and at least every second. */
    @FunctionalInterface
    public interface Turn<T, R> {
        Look<R> look(WaitingLine<T>.Ticket ticket);
    }

    private final Object monitor;
    private final Limits limits;
    private final Words<T> words;
    private final List<Ticket> tickets = new ArrayList<>();
    /** Counts changes, so that a change between a waiter's look and its wait is not missed. */
    private long version;

    /** A line guarded by {@code monitor}: the owner's lock over what the line waits for. */
    public WaitingLine(Object monitor, Limits limits, Words<T> words) {
        this.monitor = monitor;
        this.limits = limits;
        this.words = words;
    }

    /** A place in line; closing it leaves the line (a served or replaced ticket has left already). */
    public final class Ticket implements AutoCloseable {
        private final T item;
        private final long joined = System.nanoTime();
        private long lastWanted = joined;
        private String said;
        private long saidAt;
        private boolean replaced;

        private Ticket(T item) {
            this.item = item;
        }

        public T item() {
            return item;
        }

        /** The place in line, 1 for the next; 0 once the ticket left it. */
        public int position() {
            synchronized (monitor) {
                return tickets.indexOf(this) + 1;
            }
        }

        /** Whether a later ticket of the same waiter took this one's place ({@link #join(Object, Predicate)}). */
        public boolean replaced() {
            synchronized (monitor) {
                return replaced;
            }
        }

        /** Leaves the line if still in it; the others move up. */
        @Override
        public void close() {
            synchronized (monitor) {
                if (tickets.remove(this)) {
                    changed();
                }
            }
        }

        /** {@code sentence} when it differs from the last one told or that was told long enough ago, else null. */
        private String toSay(String sentence, long now) {
            if (sentence == null || (sentence.equals(said) && now - saidAt < ANNOUNCE_EVERY.toNanos())) {
                return null;
            }
            said = sentence;
            saidAt = now;
            return sentence;
        }
    }

    /** Joins the end of the line; refuses when {@code max-length} tickets wait already. */
    public Ticket join(T item) {
        return join(item, other -> false);
    }

    /**
     * Takes the place of the first ticket whose item is {@code same} as this one (that ticket is {@link Ticket#replaced
     * replaced} and out of the line) — the same waiter coming back keeps its place — or else joins the end of the line.
     */
    public Ticket join(T item, Predicate<? super T> same) {
        synchronized (monitor) {
            Ticket ticket = new Ticket(item);
            for (int i = 0; i < tickets.size(); i++) {
                if (same.test(tickets.get(i).item)) {
                    tickets.set(i, ticket).replaced = true;
                    changed();
                    return ticket;
                }
            }
            if (limits.maxLength() > 0 && tickets.size() >= limits.maxLength()) {
                throw words.full(tickets.size());
            }
            tickets.add(ticket);
            changed();
            return ticket;
        }
    }

    /**
     * Serves the line in order: each ticket whose item {@code admitted} accepts (the owner hands it what it waited for
     * when it does) leaves the line. A ticket not accepted keeps its place and does not hold back those behind it.
     */
    public void serve(Predicate<? super T> admitted) {
        synchronized (monitor) {
            boolean any = tickets.removeIf(t -> admitted.test(t.item));
            if (any) {
                changed();
            }
        }
    }

    /**
     * Tells each ticket whose position sentence changed since it was last told: for a line whose tickets have no thread
     * waiting (builds), told when the line moves rather than every 30 seconds. {@code tell} is called under the
     * monitor, so it must not block.
     */
    public void announce(BiConsumer<? super T, String> tell) {
        synchronized (monitor) {
            long now = System.nanoTime();
            for (int i = 0; i < tickets.size(); i++) {
                Ticket t = tickets.get(i);
                String sentence = words.position(i + 1, t.item);
                if (!sentence.equals(t.said)) {
                    t.said = sentence;
                    t.saidAt = now;
                    tell.accept(t.item, sentence);
                }
            }
        }
    }

    /** Records that {@code ticket} was told its position already (in words of the owner's choice). */
    public void told(Ticket ticket) {
        synchronized (monitor) {
            int position = tickets.indexOf(ticket) + 1;
            if (position > 0) {
                ticket.said = words.position(position, ticket.item);
                ticket.saidAt = System.nanoTime();
            }
        }
    }

    /**
     * Waits until {@code turn} finds what this ticket waits for, and returns it. Meanwhile {@code say} is told the
     * ticket's position (or what the turn says instead) when it changes and every 30 seconds, and the waiter fails —
     * leaving the line — when {@code wanted} has said no for {@code leave-after}, or after {@code max-wait}. What the
     * turn found wins over leaving: nothing served is lost to a waiter that fails at the same moment.
     */
    public <R> R await(Ticket ticket, Turn<T, R> turn, Consumer<String> say, BooleanSupplier wanted)
            throws InterruptedException {
        try {
            while (true) {
                boolean stillWanted = wanted.getAsBoolean();
                String sentence;
                long seen;
                synchronized (monitor) {
                    Look<R> look = turn.look(ticket);
                    if (look.served() != null) {
                        return look.served();
                    }
                    long now = System.nanoTime();
                    failIfOver(ticket, stillWanted, now);
                    int position = tickets.indexOf(ticket) + 1;
                    String words = look.sentence() != null
                            ? look.sentence()
                            : position > 0 ? this.words.position(position, ticket.item) : null;
                    sentence = ticket.toSay(words, now);
                    seen = version;
                }
                if (sentence != null) {
                    say.accept(sentence);
                }
                synchronized (monitor) {
                    if (version == seen) {
                        monitor.wait(LOOK_EVERY.toMillis());
                    }
                }
            }
        } catch (InterruptedException | RuntimeException e) {
            ticket.close();
            throw e;
        }
    }

    /** Under the monitor: fails when nobody waited for the ticket during leave-after, or it waited past max-wait. */
    private void failIfOver(Ticket ticket, boolean stillWanted, long now) {
        if (stillWanted) {
            ticket.lastWanted = now;
        } else if (Duration.ofNanos(now - ticket.lastWanted).compareTo(limits.leaveAfter()) > 0) {
            throw words.left();
        }
        if (Duration.ofNanos(now - ticket.joined).compareTo(limits.maxWait()) > 0) {
            throw words.waitedTooLong(limits.maxWait());
        }
    }

    /** Wakes the waiters: something they wait for may have changed (called by the line, or by its owner). */
    public void changed() {
        synchronized (monitor) {
            version++;
            monitor.notifyAll();
        }
    }

    /** Tickets waiting now. */
    public int size() {
        synchronized (monitor) {
            return tickets.size();
        }
    }

    public boolean isEmpty() {
        return size() == 0;
    }

    /** What waits, in order. */
    public List<T> items() {
        synchronized (monitor) {
            return tickets.stream().map(t -> t.item).toList();
        }
    }
}
