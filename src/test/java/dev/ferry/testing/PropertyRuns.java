package dev.ferry.testing;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Makes property runs repeatable in CI and larger on demand. By default every property runs with the fixed seed
 * {@link #DEFAULT_SEED} and the tries set in {@code junit-platform.properties}; {@code -Dferry.property.seed=<n>}
 * (or {@code random}) and {@code -Dferry.property.tries=<n>} change that for a longer hunt, e.g.
 * {@code ./mvnw test -Dtest='*Property*' -Dferry.property.tries=200000 -Dferry.property.seed=random}.
 * A failure prints the seed that found it; rerun with that seed to reproduce.
 */
public final class PropertyRuns implements AroundPropertyHook {

    public static final String DEFAULT_SEED = "20261129";

    /** Registered on a test class, it applies to every property in it. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        String seed = System.getProperty("ferry.property.seed", DEFAULT_SEED);
        if (!seed.equalsIgnoreCase("random")
                && context.attributes().seed().filter(s -> !s.isBlank()).isEmpty()) {
            context.attributes().setSeed(seed);
        }
        String tries = System.getProperty("ferry.property.tries");
        if (tries != null && !tries.isBlank()) {
            context.attributes().setTries(Integer.parseInt(tries.trim()));
        }
        return property.execute();
    }
}
