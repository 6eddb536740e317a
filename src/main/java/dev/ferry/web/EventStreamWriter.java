package dev.ferry.web;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.FerryException;
import dev.ferry.access.StreamLimits;
import dev.ferry.launch.Launch;
import dev.ferry.launch.LaunchEvent;
import dev.ferry.launch.LaunchService;

/**
 * The one writer of Ferry's event streams: BinderHub's build API ({@code /build/<provider>/<spec>}) and the workshop
 * attendees' streams ({@code /e/<slug>/events}). A launch's events go out as {@code id: <launch>.<seq>} and
 * {@code data: <json>} frames, one at a time (a batch may hold a whole build log); a {@code :keepalive} comment is
 * written whenever nothing was for {@link #KEEPALIVE}; the stream ends after {@code ready} or {@code failed}. A client
 * that reconnects with {@code Last-Event-ID} is attached to the launch it followed, after the last event it saw (and
 * gets 204, which stops EventSource, when that launch has nothing more to say). A request refused before any launch
 * gets one {@code failed} event in a 200 stream: EventSource reads no error body.
 * <p>
 * Each stream holds a thread while its client keeps it; a client that never reads blocks only its own thread, on a
 * write of one frame, until that write fails: the client goes, or the front door, which stops reading from Tomcat
 * while its visitor takes nothing, ends the visitor's connection at its read timeout ({@code ferry.proxy.read-timeout})
 * and with it Tomcat's. What it costs is bounded by the {@link StreamLimits} permit it
 * holds, which goes back however the stream ends.
 */
final class EventStreamWriter {

    private static final Logger log = LoggerFactory.getLogger(EventStreamWriter.class);
    private static final byte[] KEEPALIVE_FRAME = ":keepalive\n\n".getBytes(StandardCharsets.UTF_8);

    /**
     * How long a stream may stay quiet: well within the 25–30 s after which intermediaries cut a silent stream, and
     * short enough that a client that left is noticed soon (the next write fails), which a launch waiting in a line
     * asks ("is anybody still there?").
     */
    static final Duration KEEPALIVE = Duration.ofSeconds(10);

    private final JsonMapper json;
    private final Executor threads;
    private final long keepaliveMillis;

    EventStreamWriter(JsonMapper json, Executor threads) {
        this(json, threads, KEEPALIVE);
    }

    EventStreamWriter(JsonMapper json, Executor threads, Duration keepalive) {
        this.json = json;
        this.threads = threads;
        this.keepaliveMillis = keepalive.toMillis();
    }

    /** Where a client writes its bytes, and how they are pushed through to it. */
    interface Sink {
        OutputStream out() throws IOException;

        /** Pushes what was written through to the client now, not when the stream ends. */
        void flush() throws IOException;
    }

    /** {@code <launch id>.<seq>} as sent in each event's {@code id:} line. */
    record LastEventId(String launchId, long seq) {

        /** The header's value read, or null when there is none or it is not one of Ferry's. */
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

    /** A launch a client follows, from the event after {@code after}. */
    record Following(Launch launch, long after) {}

    /** The launch the request's {@code Last-Event-ID} names, when it is still known: the client resumes it. */
    static Optional<Following> resumed(HttpServletRequest req, LaunchService launches) {
        LastEventId last = LastEventId.parse(req.getHeader("Last-Event-ID"));
        return last == null
                ? Optional.empty()
                // a client cannot have seen an event the launch has not sent: a larger number would wait for
                // events that never come
                : launches.find(last.launchId())
                        .map(launch -> new Following(launch, Math.min(last.seq(), launch.lastSeq())));
    }

    /** The status and headers of every event stream: 200 whatever happens, never cached nor buffered on the way. */
    static void headers(HttpServletResponse resp) {
        resp.setStatus(200);
        resp.setContentType("text/event-stream;charset=UTF-8");
        resp.setHeader("Cache-Control", "no-cache, no-store");
        resp.setHeader("X-Accel-Buffering", "no");
    }

    /** The whole answer to a request refused before it follows a launch: one {@code failed} event. */
    void refuse(HttpServletResponse resp, int status, String message) throws IOException {
        byte[] body = frame(null, LaunchEvent.failed(status, message));
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** Begins the launch a stream asks for; null when the request was refused (the refusal is written then). */
    interface Starter {
        Launch start() throws IOException;
    }

    /**
     * The body of a launch stream: takes a permit from {@code permits} (without one, a {@code failed} event and
     * {@code Retry-After}), then follows the launch the request's {@code Last-Event-ID} resumes, or the one
     * {@code starter} begins. The permit goes back when nothing is streamed.
     */
    void follow(
            HttpServletRequest req,
            HttpServletResponse resp,
            LaunchService launches,
            Supplier<StreamLimits.Permit> permits,
            Starter starter)
            throws IOException {
        StreamLimits.Permit permit;
        try {
            permit = permits.get();
        } catch (FerryException e) {
            resp.setHeader("Retry-After", "30");
            refuse(resp, e.status(), e.getMessage());
            return;
        }
        boolean handed = false;
        try {
            Following following = resumed(req, launches).orElse(null);
            if (following == null) {
                Launch launch = starter.start();
                following = launch == null ? null : new Following(launch, 0);
            }
            if (following != null) {
                stream(req, resp, following, permit);
                handed = true;
            }
        } finally {
            if (!handed) {
                permit.close();
            }
        }
    }

    /**
     * Streams the launch to the request's client on a thread of its own (the request goes async and never times out),
     * or answers 204 when the launch finished and the client saw its end. {@code permit} goes back however the stream
     * ends; it is the caller's to give back only when this throws.
     */
    void stream(HttpServletRequest req, HttpServletResponse resp, Following following, StreamLimits.Permit permit) {
        Launch launch = following.launch();
        if (launch.isFinished() && following.after() >= launch.lastSeq()) {
            resp.setStatus(204); // tells EventSource to stop reconnecting
            permit.close();
            return;
        }
        AsyncContext async = req.startAsync();
        async.setTimeout(0);
        try {
            threads.execute(() -> follow(async, following, permit));
        } catch (RuntimeException e) { // no thread to be had: the stream ends here
            async.complete();
            throw e;
        }
    }

    private void follow(AsyncContext async, Following following, StreamLimits.Permit permit) {
        HttpServletResponse resp = (HttpServletResponse) async.getResponse();
        Launch launch = following.launch();
        try {
            write(launch, following.after(), new Sink() {
                @Override
                public OutputStream out() throws IOException {
                    return resp.getOutputStream();
                }

                @Override
                public void flush() throws IOException {
                    resp.getOutputStream().flush();
                    resp.flushBuffer();
                }
            });
        } catch (IOException e) {
            log.debug("launch {}: event stream closed by the client", launch.id());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("launch {}: event stream failed", launch.id(), e);
        } finally {
            permit.close();
            try {
                async.complete();
            } catch (IllegalStateException ignored) {
                // already completed by the container after a client abort
            }
        }
    }

    /**
     * Writes the launch's events after {@code after} until its last one ({@code ready} or {@code failed}), with
     * keepalives while it is quiet; the launch counts as watched meanwhile. An {@link IOException} says the client left.
     */
    void write(Launch launch, long after, Sink sink) throws IOException, InterruptedException {
        launch.watched(true);
        try {
            OutputStream out = sink.out();
            sink.flush(); // the headers at once: the client knows the stream is open
            long seq = after;
            while (true) {
                List<LaunchEvent> events = launch.eventsAfter(seq, keepaliveMillis);
                if (events.isEmpty()) {
                    if (launch.isFinished()) {
                        return; // nothing after this number will come (a finished launch answers at once)
                    }
                    out.write(KEEPALIVE_FRAME);
                    sink.flush();
                    continue;
                }
                boolean done = false;
                for (LaunchEvent event : events) {
                    out.write(frame(launch.id(), event));
                    seq = event.seq();
                    done |= event.terminal();
                }
                sink.flush();
                if (done) {
                    return;
                }
            }
        } finally {
            launch.watched(false);
        }
    }

    /** One event's frame: its {@code id:} line (none outside a launch), then its JSON. */
    private byte[] frame(String launchId, LaunchEvent event) {
        String id = launchId == null ? "" : "id: " + launchId + '.' + event.seq() + "\n";
        return (id + "data: " + json.writeValueAsString(event.fields()) + "\n\n").getBytes(StandardCharsets.UTF_8);
    }
}
