package dev.ferry.launch;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One event of BinderHub's build event stream: {@code phase}, {@code message} and the fields of that phase, in the
 * order they are written. {@code seq} numbers the events of one launch from 1.
 */
public record LaunchEvent(long seq, Map<String, Object> fields) {

    public LaunchEvent {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public String phase() {
        return (String) fields.get("phase");
    }

    /** True for {@code ready} and {@code failed}: nothing follows. */
    public boolean terminal() {
        return isTerminal(phase());
    }

    static boolean isTerminal(String phase) {
        return "ready".equals(phase) || "failed".equals(phase);
    }
}
