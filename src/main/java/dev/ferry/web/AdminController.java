package dev.ferry.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.ResponseBody;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.build.Build;
import dev.ferry.build.BuildService;
import dev.ferry.cull.CullProperties;
import dev.ferry.cull.Culler;
import dev.ferry.launch.Capacity;
import dev.ferry.launch.LaunchService;
import dev.ferry.launch.Session;
import dev.ferry.launch.SessionService;
import dev.ferry.proxy.ProxyMetrics;

/**
 * The operator dashboard ({@code /admin}): running sessions, builds, capacity, with actions to stop a session, cancel
 * a build and cull now. The page follows {@code /admin/events}, a stream of snapshots, so it updates without reloads.
 */
@Controller
class AdminController {

    private final SessionService sessions;
    private final BuildService builds;
    private final LaunchService launches;
    private final Culler culler;
    private final CullProperties cull;
    private final ProxyMetrics proxy;
    private final JsonMapper json;
    private final Capacity capacity;
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ferry-admin-events");
        t.setDaemon(true);
        return t;
    });

    AdminController(SessionService sessions, BuildService builds, LaunchService launches, Culler culler, CullProperties cull,
                    ProxyMetrics proxy, JsonMapper json, Capacity capacity) {
        this.capacity = capacity;
        this.sessions = sessions;
        this.builds = builds;
        this.launches = launches;
        this.culler = culler;
        this.cull = cull;
        this.proxy = proxy;
        this.json = json;
    }

    @GetMapping("/admin")
    String dashboard(Model model) {
        model.addAttribute("snapshot", snapshot());
        return "admin/dashboard";
    }

    /** The login form; Spring Security takes its POST, and {@code ?error} / {@code ?logout} after it. */
    @GetMapping("/admin/login")
    String login() {
        return "admin/login";
    }

    @GetMapping("/admin/api/snapshot")
    @ResponseBody
    Map<String, Object> snapshotJson() {
        return snapshot();
    }

    /** Snapshots every two seconds as server-sent events, until the page goes away. */
    @GetMapping("/admin/events")
    void events(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/event-stream;charset=UTF-8");
        response.setHeader("Cache-Control", "no-cache, no-store");
        response.setHeader("X-Accel-Buffering", "no");
        response.flushBuffer();
        AsyncContext async = request.startAsync();
        async.setTimeout(0);
        ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
        task[0] = ticker.scheduleWithFixedDelay(() -> {
            try {
                var out = async.getResponse().getOutputStream();
                out.write(("data: " + json.writeValueAsString(snapshot()) + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException | RuntimeException e) {
                task[0].cancel(false);
                try {
                    async.complete();
                } catch (IllegalStateException ignored) {
                    // already completed
                }
            }
        }, 0, 2, TimeUnit.SECONDS);
    }

    @PostMapping("/admin/api/sessions/{id}/stop")
    @ResponseBody
    ResponseEntity<Map<String, Object>> stop(@PathVariable String id) {
        boolean stopped = sessions.stop(id, "an operator stopped it.");
        return stopped ? ResponseEntity.ok(Map.of("stopped", id))
                : ResponseEntity.status(404).body(Map.of("message", "There is no running session " + id + "."));
    }

    @PostMapping("/admin/api/builds/{key}/cancel")
    @ResponseBody
    ResponseEntity<Map<String, Object>> cancel(@PathVariable String key) {
        return builds.cancel(key) ? ResponseEntity.ok(Map.of("cancelled", key))
                : ResponseEntity.status(404).body(Map.of("message", "No build " + key + " is queued or running."));
    }

    @PostMapping("/admin/api/cull")
    @ResponseBody
    Map<String, Object> cullNow() {
        return Map.of("culled", culler.cullOnce(Instant.now()));
    }

    Map<String, Object> snapshot() {
        Instant now = Instant.now();
        List<Map<String, Object>> sessionRows = new ArrayList<>();
        for (Session s : sessions.sessions()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", s.id());
            row.put("repo", s.repo().spec().displayUrl());
            row.put("ref", s.repo().spec().ref());
            row.put("commit", s.repo().commit());
            row.put("created", s.created().toString());
            long idle = Duration.between(s.lastActivity(), now).toSeconds();
            long age = Duration.between(s.created(), now).toSeconds();
            row.put("ageSeconds", age);
            row.put("idleSeconds", idle);
            long untilIdle = cull.idleTimeout().toSeconds() - idle;
            long untilAge = cull.maxAge().isZero() ? Long.MAX_VALUE : cull.maxAge().toSeconds() - age;
            row.put("cullInSeconds", Math.max(0, Math.min(untilIdle, untilAge)));
            sessionRows.add(row);
        }
        List<Map<String, Object>> buildRows = new ArrayList<>();
        for (Build b : builds.builds()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("key", b.key().id());
            row.put("repo", b.repo().spec().displayUrl());
            row.put("commit", b.repo().commit());
            row.put("state", b.state().name().toLowerCase(Locale.ROOT));
            Instant start = b.started() != null ? b.started() : b.created();
            Instant end = b.finished() != null ? b.finished() : now;
            row.put("seconds", Duration.between(start, end).toSeconds());
            row.put("log", b.log().tail(40));
            buildRows.add(row);
        }
        Map<String, Object> capacity = new LinkedHashMap<>();
        capacity.put("sessions", sessionRows.size());
        capacity.put("quotaTotal", this.capacity.total() > 0 ? this.capacity.total() : null);
        capacity.put("waiting", this.capacity.waiting());
        capacity.put("buildsInProgress", builds.inProgress());
        capacity.put("launchesInProgress", launches.inProgress());
        capacity.put("openWebSockets", proxy.openWebSockets());
        Map<String, Object> snapshot = new LinkedHashMap<>();
        snapshot.put("time", now.toString());
        snapshot.put("sessions", sessionRows);
        snapshot.put("builds", buildRows);
        snapshot.put("queue", Map.of("waiting", this.capacity.waiting()));
        snapshot.put("capacity", capacity);
        return snapshot;
    }
}
