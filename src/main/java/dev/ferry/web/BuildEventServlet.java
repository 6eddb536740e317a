package dev.ferry.web;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.FerryException;
import dev.ferry.FerryProperties;
import dev.ferry.launch.Launch;
import dev.ferry.launch.LaunchEvent;
import dev.ferry.launch.LaunchRequest;
import dev.ferry.launch.LaunchService;
import dev.ferry.repo.RepoProviders;
import dev.ferry.repo.RepoSpec;

/**
 * BinderHub's build API, {@code GET /build/<provider>/<spec>}: a Server-Sent Events stream of the launch's events
 * ({@code data: <json>}, each with an {@code id:}), a {@code :keepalive} comment every 20 seconds, closed after
 * {@code ready} or {@code failed}. Every error is HTTP 200 with a {@code failed} event carrying {@code status_code},
 * because EventSource cannot read error bodies. A client that reconnects with {@code Last-Event-ID} is attached to
 * the launch it was following (and gets 204, which stops EventSource, when that launch has nothing more to say); when
 * the events it asks for were not kept (the middle of a long build log), it gets one event saying how many lines were
 * not shown, then the last ones.
 */
final class BuildEventServlet extends HttpServlet {

    private static final Logger log = LoggerFactory.getLogger(BuildEventServlet.class);
    static final String PREFIX = "/build/";
    private static final long KEEPALIVE_MILLIS = 20_000;

    private final transient LaunchService launches;
    private final transient RepoProviders providers;
    private final transient FerryProperties properties;
    private final transient JsonMapper json;
    private final transient Executor streams;
    private final boolean allowBuildOnly;
    private final transient LaunchGuard guard;
    private final transient StreamLimits streamLimits;

    BuildEventServlet(LaunchService launches, RepoProviders providers, FerryProperties properties, JsonMapper json,
                      Executor streams, boolean allowBuildOnly, LaunchGuard guard, StreamLimits streamLimits) {
        this.guard = guard;
        this.streamLimits = streamLimits;
        this.launches = launches;
        this.providers = providers;
        this.properties = properties;
        this.json = json;
        this.streams = streams;
        this.allowBuildOnly = allowBuildOnly;
    }

    /** Cross-origin pages (Thebe) may read the stream when their origin is allowed. */
    @Override
    protected void doOptions(HttpServletRequest req, HttpServletResponse resp) {
        cors(req, resp);
        resp.setHeader("Access-Control-Allow-Methods", "GET, OPTIONS");
        resp.setHeader("Access-Control-Allow-Headers", "Accept, Last-Event-ID, Cache-Control");
        resp.setStatus(204);
    }

    private void cors(HttpServletRequest req, HttpServletResponse resp) {
        String origin = req.getHeader("Origin");
        if (properties.cors().allows(origin)) {
            resp.setHeader("Access-Control-Allow-Origin", properties.cors().allowedOrigins().contains("*") ? "*" : origin);
            resp.addHeader("Vary", "Origin");
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setStatus(200);
        resp.setContentType("text/event-stream;charset=UTF-8");
        resp.setHeader("Cache-Control", "no-cache, no-store");
        resp.setHeader("X-Accel-Buffering", "no");
        cors(req, resp);
        String accept = req.getHeader("Accept");
        if (accept == null || !accept.contains("text/event-stream")) {
            writeFailed(resp, 400, "Missing Accept header: text/event-stream");
            return;
        }
        LaunchGuard.Refusal banned = guard.checkPage(req);
        if (banned != null) {
            writeFailed(resp, banned.status(), banned.message());
            return;
        }
        StreamLimits.Permit permit;
        try {
            permit = streamLimits.acquire(guard.clientAddress(req));
        } catch (FerryException e) {
            resp.setHeader("Retry-After", "30");
            writeFailed(resp, e.status(), e.getMessage());
            return;
        }
        boolean streaming = false;
        try {
            streaming = follow(req, resp, permit);
        } finally {
            if (!streaming) {
                permit.close();
            }
        }
    }

    /** Finds or starts the launch and hands its stream to a thread of its own; false when no stream was started. */
    private boolean follow(HttpServletRequest req, HttpServletResponse resp, StreamLimits.Permit permit) throws IOException {
        Launch launch;
        long after = 0;
        LastEventId last = LastEventId.parse(req.getHeader("Last-Event-ID"));
        if (last != null && launches.find(last.launchId()).isPresent()) {
            launch = launches.find(last.launchId()).get();
            after = last.seq();
            if (launch.isFinished() && after >= launch.lastSeq()) {
                resp.setStatus(204); // tells EventSource to stop reconnecting
                return false;
            }
        } else {
            RepoSpec spec;
            String path = req.getRequestURI().substring(req.getContextPath().length() + PREFIX.length());
            Map<String, String> limitHeaders = new LinkedHashMap<>();
            LaunchGuard.Admission admission = guard.checkBuild(req, path, limitHeaders);
            limitHeaders.forEach(resp::setHeader);
            if (admission.refusal() != null) {
                writeFailed(resp, admission.refusal().status(), admission.refusal().message());
                return false;
            }
            try {
                int slash = path.indexOf('/');
                if (slash <= 0) {
                    throw new FerryException(404, "The build URL has the form /build/<provider>/<spec>.");
                }
                spec = providers.parse(path.substring(0, slash), path.substring(slash + 1));
            } catch (FerryException e) {
                writeFailed(resp, e.status(), e.getMessage());
                return false;
            }
            boolean buildOnly = "true".equalsIgnoreCase(req.getParameter("build_only"));
            if (buildOnly && !allowBuildOnly) {
                writeFailed(resp, 400, "Building but not launching is not permitted on this Ferry: its operator has not "
                        + "set ferry.build.allow-build-only=true.");
                return false;
            }
            String origin = req.getHeader("Origin");
            launch = launches.start(new LaunchRequest(spec, PublicUrls.base(req, properties), guard.clientAddress(req), buildOnly,
                    origin != null ? origin : String.valueOf(req.getHeader("Host")), admission.withToken()));
        }
        AsyncContext async = req.startAsync();
        async.setTimeout(0);
        long start = after;
        try {
            streams.execute(() -> stream(async, launch, start, permit));
        } catch (RuntimeException e) { // no thread to be had: the stream ends here
            async.complete();
            throw e;
        }
        return true;
    }


    /** Writes the launch's events until it ends or the client leaves; gives the permit back however it ends. */
    private void stream(AsyncContext async, Launch launch, long after, StreamLimits.Permit permit) {
        HttpServletResponse resp = (HttpServletResponse) async.getResponse();
        launch.watched(true);
        try {
            OutputStream out = resp.getOutputStream();
            resp.flushBuffer();
            long seq = after;
            while (true) {
                List<LaunchEvent> events = launch.eventsAfter(seq, KEEPALIVE_MILLIS);
                if (events.isEmpty()) {
                    out.write(":keepalive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    continue;
                }
                boolean done = false;
                for (LaunchEvent event : events) { // one frame at a time: a batch may hold a whole build log
                    out.write(("id: " + launch.id() + '.' + event.seq() + "\ndata: " + json.writeValueAsString(event.fields())
                            + "\n\n").getBytes(StandardCharsets.UTF_8));
                    seq = event.seq();
                    done |= event.terminal();
                }
                out.flush();
                if (done) {
                    break;
                }
            }
        } catch (IOException e) {
            log.debug("launch {}: event stream closed by the client", launch.id());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("launch {}: event stream failed", launch.id(), e);
        } finally {
            permit.close();
            launch.watched(false);
            try {
                async.complete();
            } catch (IllegalStateException ignored) {
                // already completed by the container after a client abort
            }
        }
    }

    private void writeFailed(HttpServletResponse resp, int status, String message) throws IOException {
        byte[] body = ("data: " + json.writeValueAsString(LaunchEvent.failed(status, message).fields()) + "\n\n").getBytes(StandardCharsets.UTF_8);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** {@code <launch id>.<seq>} as sent in each event's {@code id:} field. */
    record LastEventId(String launchId, long seq) {
        static LastEventId parse(String header) {
            if (header == null || header.length() > 100) {
                return null;
            }
            int dot = header.lastIndexOf('.');
            if (dot <= 0) {
                return null;
            }
            try {
                return new LastEventId(header.substring(0, dot), Long.parseLong(header.substring(dot + 1)));
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }
}
