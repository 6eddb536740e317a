package dev.ferry.build;

/**
 * The phases of BinderHub's build event stream ({@code /build/...}), each with the name it has on the wire. Builds
 * report the first three; a launch adds the rest. It lives with the builds, which a launch depends on, not the other
 * way round.
 */
public enum Phase {
    WAITING("waiting"),
    FETCHING("fetching"),
    BUILDING("building"),
    BUILT("built"),
    LAUNCHING("launching"),
    READY("ready"),
    FAILED("failed");

    private final String wire;

    Phase(String wire) {
        this.wire = wire;
    }

    /** The name in the {@code phase} field of an event. */
    public String wire() {
        return wire;
    }

    /** True for {@code ready} and {@code failed}: nothing follows. */
    public boolean terminal() {
        return this == READY || this == FAILED;
    }

    @Override
    public String toString() {
        return wire;
    }
}
