package dev.ferry.launch;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.ferry.build.Phase;

/**
 * One event of BinderHub's build event stream: {@code phase}, {@code message} and the fields of that phase, in the
 * order they are written. {@code seq} numbers the events of one launch from 1 (0: not yet emitted by a launch). The
 * factories below make the events the streams send; the phase is written by its wire name.
 */
public record LaunchEvent(long seq, Map<String, Object> fields) {

    public LaunchEvent {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** An event of {@code phase} with its message and then the {@code extra} fields, not yet numbered. */
    public static LaunchEvent of(Phase phase, String message, Map<String, ?> extra) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("phase", phase.wire());
        if (message != null) {
            fields.put("message", message);
        }
        fields.putAll(extra);
        return new LaunchEvent(0, fields);
    }

    public static LaunchEvent of(Phase phase, String message) {
        return of(phase, message, Map.of());
    }

    /** {@code ready}: the message, then the server's {@code url}, {@code token} and the other fields, in their order. */
    public static LaunchEvent ready(String message, Map<String, ?> fields) {
        return of(Phase.READY, message, fields);
    }

    /** {@code built}: the image is there ({@code imageName}). */
    public static LaunchEvent built(String message, String imageName) {
        return of(Phase.BUILT, message, Map.of("imageName", imageName));
    }

    /** {@code failed} with the HTTP status that fits it and the sentence for the user (ending with a newline). */
    public static LaunchEvent failed(int status, String message) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("phase", Phase.FAILED.wire());
        fields.put("status_code", status);
        fields.put("message", message.endsWith("\n") ? message : message + "\n");
        return new LaunchEvent(0, fields);
    }

    /** This event as number {@code seq} of its launch. */
    LaunchEvent numbered(long seq) {
        return new LaunchEvent(seq, fields);
    }

    public Phase phase() {
        String wire = (String) fields.get("phase");
        for (Phase phase : Phase.values()) {
            if (phase.wire().equals(wire)) {
                return phase;
            }
        }
        throw new IllegalStateException("an event of no known phase: " + wire);
    }

    /** True for {@code ready} and {@code failed}: nothing follows. */
    public boolean terminal() {
        return phase().terminal();
    }
}
