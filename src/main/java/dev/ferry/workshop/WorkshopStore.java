package dev.ferry.workshop;

import java.time.Instant;
import java.util.Collection;
import java.util.List;

import dev.ferry.repo.ResolvedRepo;

/**
 * Where workshops are kept, so that every portal replica knows the same ones (an attendee or an instructor may land on
 * any replica, and a replica may restart), and which replica tends them (fills warm pools, stops sessions at the
 * end). The local platform has one portal: nothing to share, and it tends every workshop.
 */
public interface WorkshopStore {

    /**
     * A workshop as stored: what the instructor asked for, pinned to a commit, and when the instructor ended it early
     * (null until then). Everything else about a workshop follows from these and the clock. {@code seatsPerAddress}
     * 0: the operator's {@code ferry.workshop.seats-per-address}.
     */
    record Stored(
            String slug,
            String name,
            ResolvedRepo repo,
            Instant start,
            Instant end,
            int seats,
            int poolSize,
            String publicBase,
            Instant endingAt,
            int seatsPerAddress) {}

    /** Whether other portal replicas read what is saved here (then credentials must never be saved). */
    default boolean shared() {
        return false;
    }

    /** Saves a new workshop; false when its slug is taken already (by another workshop). */
    default boolean add(Stored workshop) {
        return true;
    }

    /** Records that the instructor ended the workshop ({@link Stored#endingAt()}). */
    default void ended(Stored workshop) {}

    /** Removes a workshop that ended long ago ({@code ferry.workshop.keep-ended}); called by the tending replica. */
    default void forget(Stored workshop) {}

    /** Every workshop saved, by any replica. */
    default Collection<Stored> load() {
        return List.of();
    }

    /** Whether this replica fills the warm pools and stops the sessions of ended workshops (one replica does). */
    default boolean tends() {
        return true;
    }

    /** The store of a single portal: workshops live in its memory. */
    WorkshopStore IN_MEMORY = new WorkshopStore() {};
}
