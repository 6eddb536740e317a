package dev.ferry.cull;

/**
 * Whether this portal is the one that culls. One portal alone always is; portal replicas sharing a platform elect one
 * (on Kubernetes with a Lease), so that a session is culled once, on one clock.
 */
@FunctionalInterface
public interface Leadership {

    Leadership ALWAYS = () -> true;

    boolean isLeader();
}
