package dev.ferry.build;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Builds ({@code ferry.build.*}).
 *
 * @param timeout       a build still running after this long is stopped and fails (mybinder stops builds after 1 h)
 * @param maxConcurrent builds that run at once; further builds wait in line, in order
 * @param allowBuildOnly accept {@code build_only=true} on the build API (build without launching; BinderHub's
 *                       API-only mode)
 * @param log           how much of a build's output the portal keeps, per build and per launch
 *                      ({@code ferry.build.log.*})
 */
@ConfigurationProperties("ferry.build")
public record BuildProperties(
        @DefaultValue("1h") Duration timeout,
        @DefaultValue("2") int maxConcurrent,
        @DefaultValue("false") boolean allowBuildOnly,
        @DefaultValue Log log) {

    /**
     * The bounds of every buffer that holds a build's output in the portal: the build's log, the events of each launch
     * that follows it, and the reader of each build step's output. Past a bound the first and the last half are kept
     * and a line says how much of the middle was not kept: a repository that prints without end costs the portal a
     * bounded amount of memory.
     *
     * @param maxLines      lines (events) kept per build and per launch
     * @param maxBytes      bytes of output kept per build and per launch (counted as UTF-8)
     * @param maxLineLength a longer line is cut here (in bytes of the program's output, or characters) and says so;
     *                      the rest of that line is skipped without being held in memory
     */
    public record Log(
            @DefaultValue("10000") int maxLines,
            @DefaultValue("4MB") DataSize maxBytes,
            @DefaultValue("4096") int maxLineLength) {

        public static final Log DEFAULTS = new Log(10_000, DataSize.ofMegabytes(4), 4096);

        public Log {
            if (maxLines < 2 || maxBytes.toBytes() < 2 || maxLineLength < 1) {
                throw new IllegalArgumentException("ferry.build.log needs max-lines and max-bytes of at least 2 and a "
                        + "max-line-length of at least 1.");
            }
        }
    }
}
