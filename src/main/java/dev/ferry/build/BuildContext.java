package dev.ferry.build;

import java.time.Instant;

import dev.ferry.repo.ResolvedRepo;

/**
 * What a {@link Builder} gets for one build: the repository and commit, the log to write to, and how to tell that
 * the build was cancelled (timeout, shutdown) — a builder checks {@link #cancelled()} between steps and stops any
 * process it started when it turns true.
 */
public interface BuildContext {

    ResolvedRepo repo();

    ImageKey key();

    BuildLog log();

    boolean cancelled();

    Instant deadline();
}
