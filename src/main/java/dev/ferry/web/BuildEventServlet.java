package dev.ferry.web;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.ferry.FerryException;
import dev.ferry.FerryProperties;
import dev.ferry.access.LaunchGuard;
import dev.ferry.access.StreamLimits;
import dev.ferry.launch.Launch;
import dev.ferry.launch.LaunchRequest;
import dev.ferry.launch.LaunchService;
import dev.ferry.repo.RepoProviders;
import dev.ferry.repo.RepoSpec;

/**
 * BinderHub's build API, {@code GET /build/<provider>/<spec>}: a Server-Sent Events stream of the launch's events,
 * written by the {@link EventStreamWriter} ({@code data: <json>}, each with an {@code id:}, keepalives, closed after
 * {@code ready} or {@code failed}). Every error is HTTP 200 with a {@code failed} event carrying {@code status_code},
 * because EventSource cannot read error bodies. A client that reconnects with {@code Last-Event-ID} is attached to
 * the launch it was following (and gets 204, which stops EventSource, when that launch has nothing more to say); when
 * the events it asks for were not kept (the middle of a long build log), it gets one event saying how many lines were
 * not shown, then the last ones.
 */
final class BuildEventServlet extends HttpServlet {

    static final String PREFIX = "/build/";

    private final transient LaunchService launches;
    private final transient RepoProviders providers;
    private final transient FerryProperties properties;
    private final transient EventStreamWriter writer;
    private final boolean allowBuildOnly;
    private final transient LaunchGuard guard;
    private final transient StreamLimits streamLimits;

    BuildEventServlet(
            LaunchService launches,
            RepoProviders providers,
            FerryProperties properties,
            EventStreamWriter writer,
            boolean allowBuildOnly,
            LaunchGuard guard,
            StreamLimits streamLimits) {
        this.guard = guard;
        this.streamLimits = streamLimits;
        this.launches = launches;
        this.providers = providers;
        this.properties = properties;
        this.writer = writer;
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
            resp.setHeader(
                    "Access-Control-Allow-Origin",
                    properties.cors().allowedOrigins().contains("*") ? "*" : origin);
            resp.addHeader("Vary", "Origin");
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        EventStreamWriter.headers(resp);
        cors(req, resp);
        String accept = req.getHeader("Accept");
        if (accept == null || !accept.contains("text/event-stream")) {
            writer.refuse(resp, 400, "Missing Accept header: text/event-stream");
            return;
        }
        LaunchGuard.Refusal banned = guard.checkPage(req);
        if (banned != null) {
            writer.refuse(resp, banned.status(), banned.message());
            return;
        }
        writer.follow(
                req, resp, launches, () -> streamLimits.acquire(guard.clientAddress(req)), () -> start(req, resp));
    }

    /** Starts the launch the path names; null when the request was refused (the refusal is written). */
    private Launch start(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getRequestURI().substring(req.getContextPath().length() + PREFIX.length());
        Map<String, String> limitHeaders = new LinkedHashMap<>();
        LaunchGuard.Admission admission = guard.checkBuild(req, path, limitHeaders);
        limitHeaders.forEach(resp::setHeader);
        if (admission.refusal() != null) {
            writer.refuse(
                    resp, admission.refusal().status(), admission.refusal().message());
            return null;
        }
        RepoSpec spec;
        try {
            int slash = path.indexOf('/');
            if (slash <= 0) {
                throw new FerryException(404, "The build URL has the form /build/<provider>/<spec>.");
            }
            spec = providers.parse(path.substring(0, slash), path.substring(slash + 1));
        } catch (FerryException e) {
            writer.refuse(resp, e.status(), e.getMessage());
            return null;
        }
        boolean buildOnly = "true".equalsIgnoreCase(req.getParameter("build_only"));
        if (buildOnly && !allowBuildOnly) {
            writer.refuse(
                    resp,
                    400,
                    "Building but not launching is not permitted on this Ferry: its operator has not "
                            + "set ferry.build.allow-build-only=true.");
            return null;
        }
        String origin = req.getHeader("Origin");
        return launches.start(new LaunchRequest(
                spec,
                PublicUrls.base(req, properties),
                guard.clientAddress(req),
                buildOnly,
                origin != null ? origin : String.valueOf(req.getHeader("Host")),
                admission.withToken()));
    }
}
