package dev.ferry.launch;

import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import dev.ferry.FerryException;
import dev.ferry.build.Build;
import dev.ferry.build.BuildService;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.Membership;
import dev.ferry.session.Session;

/**
 * Where a launch's session gets its seat. A general launch takes one from the capacity quota, waiting in its line
 * when there is none ({@link LaunchService}'s own source); a workshop attendee's launch takes the workshop's: a session
 * of its warm pool handed over at once, or a seat of its reservation. A workshop also fixes what is launched (the
 * commit its instructor chose, built when the workshop was created), so a source may pin the repository and the build
 * too; by default the launch resolves its link's ref and asks the build service.
 */
public interface SeatSource {

    /**
     * The launch's session: one running already (the attendee's own, or one of a warm pool handed over), or one that
     * {@code start} starts on a seat taken here. {@code waiting} receives sentences to show while the launch waits;
     * {@code wanted} tells whether anybody still follows the launch. A refusal is a {@link FerryException}
     * with the sentence for the user.
     */
    Session place(ResolvedRepo repo, Consumer<String> waiting, BooleanSupplier wanted, Starter start)
            throws InterruptedException;

    /** The repository already resolved for this launch (a workshop's commit); empty: the link's ref is resolved now. */
    default Optional<ResolvedRepo> pinned() {
        return Optional.empty();
    }

    /** The build the launch waits for before it takes its place. */
    default Build build(BuildService builds, ResolvedRepo repo) {
        return builds.request(repo);
    }

    /** Starts a launch's session on a seat its source took. */
    @FunctionalInterface
    interface Starter {
        /**
         * Starts the session: {@code release} gives its seat back once, when it ends (or at once when it does not
         * start); {@code membership} is its place in a workshop, or null for none.
         */
        Session start(Runnable release, Membership membership);
    }
}
