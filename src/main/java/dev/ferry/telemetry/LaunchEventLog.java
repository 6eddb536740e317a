package dev.ferry.telemetry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.annotation.JsonProperty;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.launch.LaunchService;

/**
 * One JSON object per successful launch, in BinderHub's launch event schema ({@code binderhub.jupyter.org/launch}),
 * written to the log category {@code ferry.events.launch} or appended as a line to a file
 * ({@code ferry.events.launch-file}). mybinder.org publishes such events as its public launch statistics.
 */
public final class LaunchEventLog {

    public static final String SCHEMA = "binderhub.jupyter.org/launch";
    public static final int VERSION = 6;
    private static final Logger events = LoggerFactory.getLogger("ferry.events.launch");

    private final JsonMapper json;
    private final Path file;

    public LaunchEventLog(LaunchService launches, JsonMapper json, Path file) {
        this.json = json;
        this.file = file;
        launches.onFinished(outcome -> {
            if (outcome.succeeded() && !outcome.buildOnly() && outcome.repo() != null) {
                write(event(outcome));
            }
        });
    }

    /** One event of BinderHub's launch schema, version 6: the fields and names mybinder.org's statistics read. */
    record LaunchEvent(
            String timestamp,
            String schema,
            int version,
            String provider,
            String spec,
            String ref,
            String status,
            @JsonProperty("build_token") boolean buildToken,
            String origin) {}

    private static LaunchEvent event(LaunchService.LaunchOutcome outcome) {
        return new LaunchEvent(
                Instant.now().truncatedTo(ChronoUnit.MICROS).toString(),
                SCHEMA,
                VERSION,
                BinderMetrics.PROVIDER_NAMES.getOrDefault(outcome.repo().spec().provider(), "Git"),
                outcome.repo().spec().shownSpec(),
                outcome.repo().commit(),
                "success",
                outcome.request().buildToken(),
                outcome.request().origin());
    }

    private synchronized void write(LaunchEvent event) {
        String line = json.writeValueAsString(event);
        if (file == null) {
            events.info(line);
            return;
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(
                    file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the launch event to " + file, e);
        }
    }
}
