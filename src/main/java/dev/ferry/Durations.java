package dev.ferry;

import java.time.Duration;

/** Durations written the way people say them: "10 minutes", "1 hour", "45 seconds". */
public final class Durations {

    private Durations() {}

    public static String human(Duration d) {
        long seconds = d.toSeconds();
        if (seconds >= 3600 && seconds % 3600 == 0) {
            return plural(seconds / 3600, "hour");
        }
        if (seconds >= 60 && seconds % 60 == 0) {
            return plural(seconds / 60, "minute");
        }
        if (seconds >= 1) {
            return plural(seconds, "second");
        }
        return plural(d.toMillis(), "millisecond");
    }

    private static String plural(long n, String unit) {
        return n + " " + unit + (n == 1 ? "" : "s");
    }
}
