package dev.ferry.telemetry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private static Map<String, Object> event(LaunchService.LaunchOutcome outcome) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("timestamp", Instant.now().truncatedTo(ChronoUnit.MICROS).toString());
        e.put("schema", SCHEMA);
        e.put("version", VERSION);
        e.put("provider", BinderMetrics.PROVIDER_NAMES.getOrDefault(outcome.repo().spec().provider(), "Git"));
        e.put("spec", outcome.repo().spec().shownSpec());
        e.put("ref", outcome.repo().commit());
        e.put("status", "success");
        e.put("build_token", outcome.request().buildToken());
        e.put("origin", outcome.request().origin());
        return e;
    }

    private synchronized void write(Map<String, Object> event) {
        String line = json.writeValueAsString(event);
        if (file == null) {
            events.info(line);
            return;
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the launch event to " + file, e);
        }
    }
}
