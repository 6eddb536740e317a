package dev.ferry.build;

import java.util.Optional;

/** The platform's way of turning a repository at a commit into an {@link Environment}. */
public interface Builder {

    /** The environment when it was built before (and is still usable), without building. */
    Optional<Environment> findBuilt(ImageKey key);

    /**
     * Builds the environment, writing phases ({@code fetching}, {@code building}) and output lines to the log.
     * Blocks until done; throws {@link BuildFailedException} (or a {@link dev.ferry.FerryException}) with a sentence
     * for the user when it fails. Leaves nothing behind on failure.
     */
    Environment build(BuildContext context) throws Exception;
}
