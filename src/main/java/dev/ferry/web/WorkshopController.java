package dev.ferry.web;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;

import dev.ferry.FerryException;
import dev.ferry.FerryProperties;
import dev.ferry.access.LaunchGuard;
import dev.ferry.access.StreamLimits;
import dev.ferry.launch.LaunchRequest;
import dev.ferry.launch.LaunchService;
import dev.ferry.launch.SeatSource;
import dev.ferry.proxy.PortalCredentials;
import dev.ferry.repo.Urls;
import dev.ferry.session.SecureIds;
import dev.ferry.session.SessionService;
import dev.ferry.workshop.QrCodes;
import dev.ferry.workshop.Workshop;
import dev.ferry.workshop.WorkshopService;

/**
 * Workshops on the web: the instructor's pages and JSON API under {@code /admin} (operator credentials), and the
 * attendees' short link {@code /e/<slug>}, which gives each attendee their own session (from the warm pool at once,
 * or after a place in line) through a launch like any other, remembers it in a cookie, and sends them to it.
 */
@Controller
class WorkshopController {

    private final WorkshopService workshops;
    private final SessionService sessions;
    private final LaunchService launches;
    private final FerryProperties ferry;
    private final LaunchGuard guard;
    private final StreamLimits streamLimits;
    private final EventStreamWriter writer;

    WorkshopController(
            WorkshopService workshops,
            SessionService sessions,
            LaunchService launches,
            FerryProperties ferry,
            LaunchGuard guard,
            StreamLimits streamLimits,
            EventStreamWriter writer) {
        this.workshops = workshops;
        this.sessions = sessions;
        this.launches = launches;
        this.ferry = ferry;
        this.guard = guard;
        this.streamLimits = streamLimits;
        this.writer = writer;
    }

    // ---- instructor

    @GetMapping("/admin/workshops")
    String list(Model model) {
        model.addAttribute(
                "workshops", workshops.all().stream().map(this::summary).toList());
        return "admin/workshops";
    }

    @PostMapping("/admin/workshops")
    String createFromForm(
            @RequestParam(defaultValue = "") String name,
            @RequestParam(defaultValue = "") String launch,
            @RequestParam(defaultValue = "") String start,
            @RequestParam(defaultValue = "") String end,
            @RequestParam(defaultValue = "0") int attendees,
            @RequestParam(defaultValue = "0") int pool,
            @RequestParam(required = false) Integer perAddress,
            HttpServletRequest request,
            HttpServletResponse response,
            Model model) {
        try {
            Workshop w = workshops.create(new WorkshopService.CreateRequest(
                    name,
                    launch,
                    localTime(start, "start"),
                    localTime(end, "end"),
                    attendees,
                    pool,
                    PublicUrls.base(request, ferry),
                    perAddress == null ? 0 : perAddress));
            return "redirect:/admin/workshops/" + w.slug();
        } catch (FerryException e) {
            response.setStatus(e.status());
            model.addAttribute("error", e.getMessage());
            model.addAttribute(
                    "form",
                    Map.of(
                            "name",
                            name,
                            "launch",
                            launch,
                            "start",
                            start,
                            "end",
                            end,
                            "attendees",
                            attendees,
                            "pool",
                            pool,
                            "perAddress",
                            perAddress == null ? "" : perAddress));
            return list(model);
        }
    }

    /** {@code datetime-local} values are taken as UTC, as the form says. */
    private static Instant localTime(String value, String field) {
        try {
            return LocalDateTime.parse(value).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new FerryException(400, "Give the workshop's " + field + " as a date and time (UTC).");
        }
    }

    @GetMapping("/admin/workshops/{slug}")
    String instructor(@PathVariable String slug, Model model, HttpServletRequest request) {
        Workshop w =
                workshops.find(slug).orElseThrow(() -> new FerryException(404, "There is no workshop " + slug + "."));
        model.addAttribute("w", summary(w));
        model.addAttribute("link", PublicUrls.base(request, ferry) + "/e/" + w.slug());
        model.addAttribute("qr", QrCodes.svg(PublicUrls.base(request, ferry) + "/e/" + w.slug()));
        model.addAttribute(
                "log", w.build() == null ? List.of() : w.build().log().tail(60)); // none: found after it ended
        return "admin/workshop";
    }

    @PostMapping("/admin/workshops/{slug}/end")
    String endFromForm(@PathVariable String slug) {
        workshops.end(slug);
        return "redirect:/admin/workshops/" + slug;
    }

    /** The JSON API: create. */
    @PostMapping(path = "/admin/api/workshops", consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseBody
    ResponseEntity<Map<String, Object>> create(@RequestBody Map<String, Object> body, HttpServletRequest request) {
        try {
            Workshop w = workshops.create(new WorkshopService.CreateRequest(
                    string(body, "name"),
                    string(body, "launch"),
                    instant(body, "start"),
                    instant(body, "end"),
                    number(body, "expectedAttendees"),
                    number(body, "poolSize"),
                    PublicUrls.base(request, ferry),
                    body.get("seatsPerAddress") == null ? 0 : number(body, "seatsPerAddress")));
            Map<String, Object> created = summary(w);
            created.put("link", PublicUrls.base(request, ferry) + "/e/" + w.slug());
            return ResponseEntity.status(201).body(created);
        } catch (FerryException e) {
            return ResponseEntity.status(e.status()).body(Map.of("message", e.getMessage()));
        }
    }

    @GetMapping("/admin/api/workshops")
    @ResponseBody
    List<Map<String, Object>> listJson() {
        return workshops.all().stream().map(this::summary).toList();
    }

    @GetMapping("/admin/api/workshops/{slug}")
    @ResponseBody
    ResponseEntity<Map<String, Object>> one(@PathVariable String slug) {
        return workshops
                .find(slug)
                .map(w -> ResponseEntity.ok(summary(w)))
                .orElse(ResponseEntity.status(404).body(Map.of("message", "There is no workshop " + slug + ".")));
    }

    @PostMapping("/admin/api/workshops/{slug}/end")
    @ResponseBody
    ResponseEntity<Map<String, Object>> endJson(@PathVariable String slug) {
        try {
            workshops.end(slug);
            return ResponseEntity.ok(summary(workshops.find(slug).orElseThrow()));
        } catch (FerryException e) {
            return ResponseEntity.status(e.status()).body(Map.of("message", e.getMessage()));
        }
    }

    private static String string(Map<String, Object> body, String key) {
        Object v = body.get(key);
        return v == null ? null : v.toString();
    }

    private static int number(Map<String, Object> body, String key) {
        Object v = body.get(key);
        if (v instanceof Number n) {
            return n.intValue();
        }
        throw new FerryException(400, "'" + key + "' must be a number.");
    }

    private static Instant instant(Map<String, Object> body, String key) {
        try {
            return Instant.parse(String.valueOf(body.get(key)));
        } catch (DateTimeParseException e) {
            throw new FerryException(400, "'" + key + "' must be a time such as 2026-12-01T14:00:00Z.");
        }
    }

    Map<String, Object> summary(Workshop w) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("slug", w.slug());
        m.put("name", w.name());
        m.put("repo", w.repo().spec().displayUrl());
        m.put("ref", w.repo().spec().ref());
        m.put("commit", w.repo().commit());
        m.put("start", w.start().toString());
        m.put("end", w.end().toString());
        m.put("state", w.state().name().toLowerCase(Locale.ROOT));
        m.put("failure", w.failure());
        m.put("seats", w.seats());
        m.put("seatsTaken", w.seatsTaken());
        m.put("poolSize", w.poolSize());
        m.put("seatsPerAddress", w.seatsPerAddress() > 0 ? w.seatsPerAddress() : null);
        m.put("pooled", w.pooled());
        m.put("waiting", w.waiting());
        m.put("endingAt", w.endingAt() == null ? null : w.endingAt().toString());
        Instant now = Instant.now();
        List<Map<String, Object>> attendees = new ArrayList<>();
        for (String sessionId : w.attendees().values()) {
            sessions.find(sessionId).ifPresent(s -> {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("session", s.id());
                a.put("ageSeconds", Duration.between(s.created(), now).toSeconds());
                a.put("idleSeconds", Duration.between(s.lastActivity(), now).toSeconds());
                attendees.add(a);
            });
        }
        m.put("attendees", attendees);
        return m;
    }

    // ---- attendees

    @GetMapping("/e/{slug}")
    String join(@PathVariable String slug, Model model, HttpServletRequest request, HttpServletResponse response) {
        LaunchGuard.Refusal banned = guard.checkPage(request);
        if (banned != null) {
            response.setStatus(banned.status());
            model.addAttribute("error", banned.message());
            return "launch";
        }
        Workshop w = workshops.find(slug).orElse(null);
        if (w == null) {
            response.setStatus(404);
            model.addAttribute("error", "There is no workshop at this address. Check the link with your instructor.");
            return "launch";
        }
        if (attendeeCookie(request) == null) { // the first visit: the page sets the cookie its stream then carries
            issueAttendeeCookie(response, slug);
        }
        model.addAttribute("providerName", "Workshop “" + w.name() + "”:");
        model.addAttribute("repoUrl", w.repo().spec().displayUrl());
        model.addAttribute("ref", w.repo().commit().substring(0, 12));
        model.addAttribute("repoName", w.name());
        model.addAttribute("ogTitle", "Workshop: " + w.name());
        model.addAttribute("buildUrl", "/e/" + w.slug() + "/events");
        model.addAttribute("urlpath", "");
        return "launch";
    }

    @GetMapping("/e/{slug}/qr.svg")
    ResponseEntity<String> qr(@PathVariable String slug, HttpServletRequest request) {
        LaunchGuard.Refusal banned = guard.checkPage(request);
        if (banned != null) {
            return ResponseEntity.status(banned.status())
                    .contentType(MediaType.TEXT_PLAIN)
                    .body(banned.message());
        }
        if (workshops.find(slug).isEmpty()) {
            return ResponseEntity.notFound().build();
        }
        return ResponseEntity.ok()
                .contentType(MediaType.valueOf("image/svg+xml"))
                .body(QrCodes.svg(PublicUrls.base(request, ferry) + "/e/" + slug));
    }

    /**
     * The attendee's stream: a launch of the workshop's commit ({@link WorkshopService#seats}: from the warm pool at
     * once, or on a reserved seat after a place in line), streamed as {@code /build} streams a launch, resumed with
     * {@code Last-Event-ID} as there. Only for the attendee the workshop's page gave a cookie: a request without one gets
     * a {@code failed} event, not a seat. Refusals are {@code failed} events in a 200 stream, as on the build API,
     * because EventSource reads no error body.
     */
    @GetMapping(path = "/e/{slug}/events", produces = "text/event-stream")
    void events(@PathVariable String slug, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        EventStreamWriter.headers(response);
        LaunchGuard.Refusal banned = guard.checkPage(request);
        if (banned != null) {
            writer.refuse(response, banned.status(), banned.message());
            return;
        }
        String attendee = attendeeCookie(request);
        if (attendee == null) {
            writer.refuse(
                    response,
                    400,
                    "Open the workshop's link, " + PublicUrls.base(request, ferry) + "/e/"
                            + Urls.printable(slug) + ", in your browser to take a seat: it gives your browser the "
                            + "cookie that a seat is kept for.");
            return;
        }
        // seats per address bound what one address holds: only the total of streams is limited here
        writer.follow(request, response, launches, streamLimits::acquireInTotal, () -> {
            try {
                return launches.start(joinRequest(slug, attendee, request));
            } catch (FerryException e) {
                writer.refuse(response, e.status(), e.getMessage());
                return null;
            }
        });
    }

    /** The launch of an attendee: the workshop's repository, on a seat of the workshop. */
    private LaunchRequest joinRequest(String slug, String attendee, HttpServletRequest request) {
        String client = guard.clientAddress(request);
        SeatSource seats = workshops.seats(slug, attendee, client);
        Workshop w = workshops.find(slug).orElseThrow();
        String origin = request.getHeader("Origin");
        return new LaunchRequest(
                w.repo().spec(),
                PublicUrls.base(request, ferry),
                client,
                false,
                origin != null ? origin : String.valueOf(request.getHeader("Host")),
                false,
                seats);
    }

    /** The attendee's id for this workshop, from the cookie its page set; null without one. */
    private static String attendeeCookie(HttpServletRequest request) {
        if (request.getCookies() != null) {
            for (Cookie c : request.getCookies()) {
                if (PortalCredentials.ATTENDEE_COOKIE.equals(c.getName())
                        && c.getValue().matches("[a-z2-7]{32}")) {
                    return c.getValue();
                }
            }
        }
        return null;
    }

    private static void issueAttendeeCookie(HttpServletResponse response, String slug) {
        Cookie cookie = new Cookie(PortalCredentials.ATTENDEE_COOKIE, SecureIds.sessionId());
        cookie.setPath("/e/" + slug);
        cookie.setHttpOnly(true);
        cookie.setMaxAge(24 * 3600);
        cookie.setAttribute("SameSite", "Lax");
        response.addCookie(cookie);
    }
}
