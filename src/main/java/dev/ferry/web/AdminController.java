package dev.ferry.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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
import dev.ferry.capacity.Capacity;
import dev.ferry.cull.CullProperties;
import dev.ferry.cull.Culler;
import dev.ferry.launch.LaunchService;
import dev.ferry.proxy.ProxyMetrics;
import dev.ferry.session.Session;
import dev.ferry.session.SessionService;

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

    AdminController(
            SessionService sessions,
            BuildService builds,
            LaunchService launches,
            Culler culler,
            CullProperties cull,
            ProxyMetrics proxy,
            JsonMapper json,
            Capacity capacity) {
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
    Snapshot snapshotJson() {
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
        task[0] = ticker.scheduleWithFixedDelay(
                () -> {
                    try {
                        var out = async.getResponse().getOutputStream();
                        out.write(("data: " + json.writeValueAsString(snapshot()) + "\n\n")
                                .getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    } catch (IOException | RuntimeException e) {
                        task[0].cancel(false);
                        try {
                            async.complete();
                        } catch (IllegalStateException ignored) {
                            // already completed
                        }
                    }
                },
                0,
                2,
                TimeUnit.SECONDS);
    }

    @PostMapping("/admin/api/sessions/{id}/stop")
    @ResponseBody
    ResponseEntity<Map<String, Object>> stop(@PathVariable String id) {
        boolean stopped = sessions.stop(id, "an operator stopped it.");
        return stopped
                ? ResponseEntity.ok(Map.of("stopped", id))
                : ResponseEntity.status(404).body(Map.of("message", "There is no running session " + id + "."));
    }

    @PostMapping("/admin/api/builds/{key}/cancel")
    @ResponseBody
    ResponseEntity<Map<String, Object>> cancel(@PathVariable String key) {
        return builds.cancel(key)
                ? ResponseEntity.ok(Map.of("cancelled", key))
                : ResponseEntity.status(404).body(Map.of("message", "No build " + key + " is queued or running."));
    }

    @PostMapping("/admin/api/cull")
    @ResponseBody
    Map<String, Object> cullNow() {
        return Map.of("culled", culler.cullOnce(Instant.now()));
    }

    /** What the admin page shows, every two seconds: sessions, builds, the waiting line and capacity. */
    record Snapshot(String time, List<SessionRow> sessions, List<BuildRow> builds, Queue queue, CapacityRow capacity) {}

    record SessionRow(
            String id,
            String repo,
            String ref,
            String commit,
            String created,
            long ageSeconds,
            long idleSeconds,
            long cullInSeconds) {}

    record BuildRow(String key, String repo, String commit, String state, long seconds, String log) {}

    record Queue(int waiting) {}

    /** {@code quotaTotal} is null when sessions are not limited. */
    record CapacityRow(
            int sessions,
            Integer quotaTotal,
            int waiting,
            int buildsInProgress,
            int launchesInProgress,
            long openWebSockets) {}

    Snapshot snapshot() {
        Instant now = Instant.now();
        List<SessionRow> sessionRows =
                sessions.sessions().stream().map(s -> sessionRow(s, now)).toList();
        List<BuildRow> buildRows =
                builds.builds().stream().map(b -> buildRow(b, now)).toList();
        int waiting = capacity.waiting();
        CapacityRow capacityRow = new CapacityRow(
                sessionRows.size(),
                capacity.total() > 0 ? capacity.total() : null,
                waiting,
                builds.inProgress(),
                launches.inProgress(),
                proxy.openWebSockets());
        return new Snapshot(now.toString(), sessionRows, buildRows, new Queue(waiting), capacityRow);
    }

    private SessionRow sessionRow(Session s, Instant now) {
        long idle = Duration.between(s.lastActivity(), now).toSeconds();
        long age = Duration.between(s.created(), now).toSeconds();
        long untilIdle = cull.idleTimeout().toSeconds() - idle;
        long untilAge = cull.maxAge().isZero() ? Long.MAX_VALUE : cull.maxAge().toSeconds() - age;
        return new SessionRow(
                s.id(),
                s.repo().spec().displayUrl(),
                s.repo().spec().ref(),
                s.repo().commit(),
                s.created().toString(),
                age,
                idle,
                Math.max(0, Math.min(untilIdle, untilAge)));
    }

    private static BuildRow buildRow(Build b, Instant now) {
        Instant start = b.started() != null ? b.started() : b.created();
        Instant end = b.finished() != null ? b.finished() : now;
        return new BuildRow(
                b.key().id(),
                b.repo().spec().displayUrl(),
                b.repo().commit(),
                b.state().name().toLowerCase(Locale.ROOT),
                Duration.between(start, end).toSeconds(),
                b.log().tail(40));
    }
}
