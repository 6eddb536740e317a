package dev.ferry.workshop;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.AddressBlocks;
import dev.ferry.Durations;
import dev.ferry.FerryException;
import dev.ferry.Hashes;
import dev.ferry.Threads;
import dev.ferry.WaitingLine;
import dev.ferry.build.Build;
import dev.ferry.build.BuildService;
import dev.ferry.build.Environment;
import dev.ferry.capacity.Capacity;
import dev.ferry.launch.LaunchService;
import dev.ferry.launch.SeatSource;
import dev.ferry.repo.RefResolver;
import dev.ferry.repo.RepoProviders;
import dev.ferry.repo.RepoSpec;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.repo.Urls;
import dev.ferry.session.Membership;
import dev.ferry.session.Session;
import dev.ferry.session.SessionService;

/**
 * Workshop events: an instructor creates one (name, repository, ref, start, end, expected attendees, warm-pool
 * size); Ferry resolves the ref and builds at once, reserves the seats from {@code lead-time} before the start, keeps
 * a pool of running sessions of that commit filled, hands one to each attendee of {@code /e/<slug>} at once (or lets
 * them wait in the workshop's own line, first come first served), and stops everything after the end with a warning
 * period. General launches cannot take reserved seats; a workshop cannot take more than its reservation.
 * <p>
 * With several portal replicas (Kubernetes), workshops are kept in the {@link WorkshopStore} so that every replica
 * serves every workshop; one replica (the store says which) fills the pools and stops sessions at the end, any replica
 * hands pool sessions to its attendees (the platform makes sure that each goes to one attendee only), and each replica
 * keeps the line of the attendees waiting on it.
 */
public final class WorkshopService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkshopService.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm 'UTC' 'on' d MMM", Locale.ENGLISH)
            .withZone(ZoneOffset.UTC);

    /** How long an attendee waits before asking the platform again after handing a pool session over failed. */
    private static final Duration HAND_OVER_RETRY = Duration.ofMillis(500);

    private final RepoProviders providers;
    private final RefResolver resolver;
    private final BuildService builds;
    private final SessionService sessions;
    private final Capacity capacity;
    private final WorkshopStore store;
    private final WorkshopProperties properties;
    private final List<String> allowedOrigins;
    /** The bounds of each workshop's line: {@code ferry.quota.queue.*}, as for every line launches wait in. */
    private final WaitingLine.Limits lineLimits;

    private final Map<String, Workshop> workshops = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final ExecutorService starters = Threads.perTask("ferry-workshop-start");
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ferry-workshops");
        t.setDaemon(true);
        return t;
    });

    /**
     * What an instructor asks for. {@code launch} is {@code <provider>/<spec>}, a launch link, or a path of one.
     * {@code seatsPerAddress}: how many attendees from one network address may hold seats (a classroom behind one NAT
     * needs as many as the class); 0: the operator's {@code ferry.workshop.seats-per-address}.
     */
    public record CreateRequest(
            String name,
            String launch,
            Instant start,
            Instant end,
            int expectedAttendees,
            int poolSize,
            String publicBase,
            int seatsPerAddress) {

        public CreateRequest(
                String name,
                String launch,
                Instant start,
                Instant end,
                int expectedAttendees,
                int poolSize,
                String publicBase) {
            this(name, launch, start, end, expectedAttendees, poolSize, publicBase, 0);
        }
    }

    public WorkshopService(
            RepoProviders providers,
            RefResolver resolver,
            BuildService builds,
            SessionService sessions,
            Capacity capacity,
            WorkshopStore store,
            WorkshopProperties properties,
            List<String> allowedOrigins,
            WaitingLine.Limits lineLimits) {
        this.store = store;
        this.providers = providers;
        this.resolver = resolver;
        this.builds = builds;
        this.sessions = sessions;
        this.capacity = capacity;
        this.properties = properties;
        this.allowedOrigins = List.copyOf(allowedOrigins);
        this.lineLimits = lineLimits;
        ticker.scheduleWithFixedDelay(this::tickSafely, 1, 1, TimeUnit.SECONDS);
    }

    public Collection<Workshop> all() {
        List<Workshop> list = new ArrayList<>(workshops.values());
        list.sort(Comparator.comparing(Workshop::start));
        return list;
    }

    public Optional<Workshop> find(String slug) {
        return Optional.ofNullable(slug == null ? null : workshops.get(slug));
    }

    /** Creates a workshop: resolves the ref (the instructor waits for that) and starts its build. */
    public Workshop create(CreateRequest r) {
        String name = r.name() == null ? "" : r.name().strip();
        if (name.isEmpty() || name.length() > 100) {
            throw new FerryException(400, "Give the workshop a name of at most 100 characters.");
        }
        if (r.start() == null || r.end() == null || !r.end().isAfter(r.start())) {
            throw new FerryException(400, "The workshop must end after it starts.");
        }
        if (!r.end().isAfter(Instant.now())) {
            throw new FerryException(400, "The workshop's end is in the past.");
        }
        if (r.expectedAttendees() < 1 || r.expectedAttendees() > properties.maxSeats()) {
            throw new FerryException(400, "Expected attendees must be between 1 and " + properties.maxSeats() + ".");
        }
        if (capacity.total() > 0 && r.expectedAttendees() > capacity.total()) {
            throw new FerryException(
                    400,
                    "This Ferry runs at most " + capacity.total() + " sessions at once; a workshop " + "cannot reserve "
                            + r.expectedAttendees() + " seats.");
        }
        if (r.poolSize() < 0 || r.poolSize() > r.expectedAttendees()) {
            throw new FerryException(400, "The warm pool must hold between 0 sessions and the expected attendees.");
        }
        if (r.seatsPerAddress() < 0 || r.seatsPerAddress() > r.expectedAttendees()) {
            throw new FerryException(
                    400,
                    "Attendees per network address must be between 1 and the expected attendees "
                            + "(or empty for this Ferry's default).");
        }
        RepoSpec spec = parseLaunch(r.launch());
        ResolvedRepo repo = resolver.resolve(spec);
        if (store.shared() && carriesCredentials(repo.repoUrl())) {
            throw new FerryException(
                    400,
                    "Workshops are shared between this Ferry's replicas through the cluster, where "
                            + "a repository URL with a password or token in it must not be kept. Give the workshop a public "
                            + "repository URL.");
        }
        WorkshopStore.Stored stored;
        int tries = 0;
        do {
            if (++tries > 5) {
                throw new FerryException(503, "Ferry could not find a free address for the workshop; try again.");
            }
            stored = new WorkshopStore.Stored(
                    slugify(name) + "-" + randomSuffix(),
                    name,
                    repo,
                    r.start(),
                    r.end(),
                    r.expectedAttendees(),
                    r.poolSize(),
                    r.publicBase(),
                    null,
                    r.seatsPerAddress());
        } while (workshops.containsKey(stored.slug()) || !store.add(stored));
        Workshop w = track(stored, Instant.now());
        log.info(
                "workshop {} created for {} ({} seats, pool {}, {} to {})",
                w.slug,
                repo,
                w.seats(),
                w.poolSize(),
                w.start(),
                w.end());
        return w;
    }

    /** A repository URL that carries a login (user information: a token or a password). */
    private static boolean carriesCredentials(String url) {
        try {
            return URI.create(url).getRawUserInfo() != null;
        } catch (IllegalArgumentException e) {
            return url.contains("@");
        }
    }

    /**
     * Starts keeping a workshop (created here, or found in the store): its build is requested at once — unless the
     * workshop was over by {@code now} (found in the store after it ended), which is kept as ended, with nothing built.
     */
    private Workshop track(WorkshopStore.Stored stored, Instant now) {
        Instant stops =
                stored.endingAt() != null ? stored.endingAt() : stored.end().plus(properties.endWarning());
        boolean over = !now.isBefore(stops);
        Build build = over ? null : builds.request(stored.repo());
        Workshop w = new Workshop(stored, build, sessions, lineLimits);
        if (over) {
            w.state = Workshop.State.ENDED;
            w.endingAt = stops;
        }
        Workshop known = workshops.putIfAbsent(w.slug, w);
        if (known != null || over) {
            return known != null ? known : w;
        }
        build.result().whenComplete((env, error) -> {
            synchronized (w) {
                if (w.state != Workshop.State.BUILDING) {
                    // ended meanwhile: the end stands
                } else if (error == null) {
                    w.state = Workshop.State.READY;
                } else {
                    w.state = Workshop.State.FAILED;
                    Throwable cause = error.getCause() != null ? error.getCause() : error;
                    w.failure = cause instanceof FerryException fe
                            ? fe.getMessage()
                            : "The build failed because of an error in Ferry.";
                }
                w.line().changed();
            }
            tickSafely();
        });
        if (stored.endingAt() != null) {
            ending(w, stored.endingAt());
        }
        return w;
    }

    /** The workshop ends: its sessions keep running until {@code at}, then stop. */
    private static void ending(Workshop w, Instant at) {
        synchronized (w) {
            if (w.state != Workshop.State.ENDED && (w.state != Workshop.State.ENDING || at.isBefore(w.endingAt))) {
                w.state = Workshop.State.ENDING;
                w.endingAt = at;
            }
            w.line().changed();
        }
    }

    private RepoSpec parseLaunch(String launch) {
        String text = launch == null ? "" : launch.strip();
        int v2 = text.indexOf("/v2/");
        if (v2 >= 0) {
            text = text.substring(v2 + 4);
        } else if (text.startsWith("v2/")) {
            text = text.substring(3);
        }
        int query = text.indexOf('?');
        if (query >= 0) {
            text = text.substring(0, query);
        }
        int slash = text.indexOf('/');
        if (slash <= 0) {
            throw new FerryException(
                    400,
                    "Name the repository as a launch link or as <provider>/<spec>, for example "
                            + "gh/binder-examples/requirements/HEAD.");
        }
        return providers.parse(text.substring(0, slash), text.substring(slash + 1));
    }

    /** The instructor ends the workshop: its sessions keep running for the warning period, then stop. */
    public void end(String slug) {
        Workshop w = find(slug)
                .orElseThrow(() -> new FerryException(404, "There is no workshop " + Urls.printable(slug) + "."));
        Instant at;
        synchronized (w) {
            if (w.state == Workshop.State.ENDED || w.state == Workshop.State.ENDING) {
                return;
            }
            at = Instant.now().plus(properties.endWarning());
        }
        store.ended(w.stored(at));
        ending(w, at);
        log.info("workshop {} ends; its sessions stop at {}", slug, at);
    }

    /**
     * Where the launch of an attendee of workshop {@code slug} gets its session (see {@link #join}): the workshop's
     * commit, its build, then its pool or its reservation. {@code attendee} is the attendee's cookie, {@code client}
     * their address.
     */
    public SeatSource seats(String slug, String attendee, String client) {
        Workshop w = find(slug)
                .orElseThrow(() -> new FerryException(
                        404, "There is no workshop at this address. Check the link with your instructor."));
        return new SeatSource() {
            @Override
            public Session place(ResolvedRepo repo, Consumer<String> waiting, BooleanSupplier wanted, Starter start)
                    throws InterruptedException {
                return join(slug, attendee, client, waiting, wanted, start);
            }

            @Override
            public Optional<ResolvedRepo> pinned() {
                return Optional.of(w.repo);
            }

            @Override
            public Build build(BuildService ignored, ResolvedRepo repo) {
                if (w.build == null) { // found in the store after it had ended
                    throw new FerryException(410, "This workshop has ended.");
                }
                return w.build; // a failed build fails the launch with its own sentence
            }
        };
    }

    /**
     * A session for an attendee: the one they already have, one from the warm pool at once, a new one on a reserved
     * seat, or — when all seats are taken — after waiting in the workshop's line. {@code waiting} receives sentences
     * to show meanwhile; {@code wanted} tells whether the attendee is still there. One attendee (cookie) gets one seat
     * however many pages they open — a later page takes over the earlier one's place in line — and one address
     * ({@code client}) at most {@code ferry.workshop.seats-per-address}. A seat whose attendee does not open their
     * session within {@code ferry.workshop.claim-grace} is given back. A new session is started by {@code start}: the
     * launch this join is part of.
     */
    private Session join(
            String slug,
            String attendee,
            String client,
            Consumer<String> waiting,
            BooleanSupplier wanted,
            SeatSource.Starter start)
            throws InterruptedException {
        Workshop w = find(slug)
                .orElseThrow(() -> new FerryException(
                        404, "There is no workshop at this address. Check the link with your instructor."));
        String key = digest(attendee);
        client = AddressBlocks.of(client); // seats count per address, an IPv6 address by its /64
        WaitingLine<Workshop.Attendee>.Ticket ticket;
        synchronized (w) {
            Optional<Session> mine = w.sessionOf(key);
            if (mine.isPresent()) {
                return mine.get();
            }
            boolean inLine =
                    w.line().items().stream().anyMatch(a -> a.attendee().equals(key));
            if (!inLine && !w.claiming.containsKey(key)) {
                refuseBeyondAddressBound(w, client);
            }
            ticket = w.line()
                    .join(new Workshop.Attendee(key, client), a -> a.attendee().equals(key));
        }
        Capacity.Seat seat;
        try (ticket) {
            long restUntil = System.nanoTime(); // after a hand-over failed: wait a moment before asking again
            while (true) {
                long rested = restUntil;
                Admission got = w.line().await(ticket, t -> look(w, t, System.nanoTime() < rested), waiting, wanted);
                if (got.session() != null) {
                    return got.session();
                }
                if (got.seat() != null) {
                    seat = got.seat();
                    break;
                }
                HandOver handOver = handOver(w, got.pool(), key, client);
                if (handOver.session() != null) {
                    return handOver.session(); // leaves the line (close)
                }
                if (handOver.failed()) {
                    restUntil = System.nanoTime() + HAND_OVER_RETRY.toNanos();
                }
            }
        }
        Capacity.Seat reserved = seat;
        try {
            Session started = start.start(
                    () -> released(w, reserved), Membership.pool(w.slug).handedTo(key));
            claimed(w, started, key, client);
            return started;
        } finally {
            synchronized (w) {
                w.claiming.remove(key);
                w.line().changed();
            }
        }
    }

    /** What an attendee's wait in line ended with: their session, pool sessions to try, or a reserved seat. */
    private record Admission(Session session, List<Session> pool, Capacity.Seat seat) {}

    /** How handing a pool session over went: the attendee's session, or none (failed: wait before trying again). */
    private record HandOver(Session session, boolean failed) {}

    /**
     * One look at the workshop by a waiting attendee, under its monitor: their session if another page of theirs set
     * it up, the pool or a reserved seat when they are first in line, else what they wait for.
     */
    private WaitingLine.Look<Admission> look(
            Workshop w, WaitingLine<Workshop.Attendee>.Ticket ticket, boolean resting) {
        if (ticket.replaced()) {
            throw new FerryException(
                    409,
                    "You opened this workshop in another page, which waits for your seat now; this "
                            + "page stopped waiting.");
        }
        String key = ticket.item().attendee();
        Optional<Session> mine = w.sessionOf(key);
        if (mine.isPresent()) {
            return WaitingLine.Look.served(new Admission(mine.get(), null, null)); // set up by another page of theirs
        }
        if (w.claiming.containsKey(key)) {
            return WaitingLine.Look.saying("Your notebook is being started in another page of yours...\n");
        }
        switch (w.state) {
            case FAILED ->
                throw new FerryException(
                        500, "The workshop's environment could not be built: " + w.failure + " Tell your instructor.");
            case ENDING, ENDED -> throw new FerryException(410, "This workshop has ended.");
            case BUILDING -> {
                return WaitingLine.Look.saying(
                        "The workshop's environment is being built; your notebook starts as soon "
                                + "as it is ready.\n");
            }
            default -> {}
        }
        Instant opens = w.start.minus(properties.leadTime());
        if (Instant.now().isBefore(opens)) {
            throw new FerryException(
                    425,
                    "This workshop opens at " + TIME.format(opens) + " (" + Durations.human(properties.leadTime())
                            + " before it starts). Come back then.");
        }
        if (ticket.position() != 1 || resting) {
            return WaitingLine.Look.inLine();
        }
        List<Session> pool = w.pool();
        if (!pool.isEmpty()) {
            w.claiming.put(key, ticket.item().client()); // a page of the same attendee waits for this hand-over
            return WaitingLine.Look.served(new Admission(null, pool, null));
        }
        Capacity.Seat seat = w.reservation == null ? null : w.reservation.take(w.repo.repoUrl());
        if (seat == null) {
            return WaitingLine.Look.inLine();
        }
        ticket.close(); // the next attendee is first now
        w.claiming.put(key, ticket.item().client());
        return WaitingLine.Look.served(new Admission(null, null, seat));
    }

    /**
     * Hands one of the pool's sessions to the attendee, outside the workshop's lock: on a shared platform that asks its
     * API. When another attendee got a session first, the next one is tried.
     */
    private HandOver handOver(Workshop w, List<Session> pool, String key, String client) {
        try {
            for (Session pooled : pool) {
                try {
                    if (sessions.handOver(pooled, key)) {
                        log.info("workshop {}: attendee got pooled session {}", w.slug, pooled.id());
                        claimed(w, pooled, key, client);
                        return new HandOver(pooled, false);
                    }
                } catch (FerryException e) {
                    log.warn("workshop {}: handing a pool session over failed: {}", w.slug, e.getMessage());
                    return new HandOver(null, true);
                }
            }
            return new HandOver(null, false); // somebody else got them all: look at the pool again at once
        } finally {
            synchronized (w) {
                w.claiming.remove(key);
                w.line().changed();
            }
        }
    }

    /**
     * Refuses an attendee from an address that holds as many seats or places as the workshop allows one address (its
     * own number, or {@code ferry.workshop.seats-per-address}).
     */
    private void refuseBeyondAddressBound(Workshop w, String client) {
        int bound = w.seatsPerAddress > 0 ? w.seatsPerAddress : properties.seatsPerAddress();
        if (bound > 0 && w.seatsHeldFrom(client) >= bound) {
            throw new FerryException(
                    429,
                    "This workshop gives at most " + bound + (bound == 1 ? " seat" : " seats")
                            + " to one network address, and yours has them all. If several attendees share one network, ask "
                            + "your instructor to raise the workshop's attendees per network address.");
        }
    }

    /** The attendee has the session now: it counts against their address, and must be opened within the grace. */
    private static void claimed(Workshop w, Session session, String key, String client) {
        synchronized (w) {
            w.seatAddresses.put(key, client);
            w.unclaimed.put(session.id(), Instant.now());
        }
    }

    /**
     * Gives back the seats of sessions handed to attendees who never opened them within the grace: a page closed at
     * once, or a client that never comes, does not keep its seat from the next attendee. (A script that opens its
     * session with one request keeps it; the bound per address is what holds scripts.)
     */
    void freeUnclaimed(Instant now) {
        for (Workshop w : workshops.values()) {
            List<String> toStop = new ArrayList<>();
            synchronized (w) {
                w.unclaimed.entrySet().removeIf(e -> {
                    Optional<Session> s = sessions.find(e.getKey());
                    if (s.isEmpty() || s.get().lastActivity().isAfter(e.getValue())) {
                        return true; // gone, or opened: the proxy carried a request for it after the hand-over
                    }
                    if (!now.isBefore(e.getValue().plus(properties.claimGrace()))) {
                        toStop.add(e.getKey());
                        return true;
                    }
                    return false;
                });
                List<String> keys =
                        w.members().stream().map(s -> s.membership().attendee()).toList();
                w.seatAddresses.keySet().retainAll(keys);
            }
            for (String id : toStop) {
                log.info(
                        "workshop {}: session {} freed, its attendee did not open it within {}",
                        w.slug,
                        id,
                        Durations.human(properties.claimGrace()));
                sessions.stop(
                        id, "its attendee did not open it within " + Durations.human(properties.claimGrace()) + ".");
            }
        }
    }

    private Session startSession(Workshop w, Capacity.Seat seat, Membership membership) {
        Environment env = w.build.result().join();
        return sessions.start(
                w.repo,
                env,
                LaunchService.binderEnvironmentFor(w.repo, w.publicBase, ""),
                allowedOrigins,
                membership,
                line -> {},
                () -> released(w, seat));
    }

    /** A session of the workshop ended: its seat comes back, and the line learns of it at once. */
    private static void released(Workshop w, Capacity.Seat seat) {
        seat.release();
        synchronized (w) {
            w.line().changed();
        }
    }

    /** What is kept of an attendee's cookie: a digest, so that nothing stored can be replayed as the cookie. */
    private static String digest(String attendee) {
        return Hashes.sha256(attendee).substring(0, 32);
    }

    private void tickSafely() {
        try {
            tick(Instant.now());
            freeUnclaimed(Instant.now());
        } catch (RuntimeException e) {
            log.error("workshop upkeep failed", e);
        }
    }

    /**
     * Takes up workshops other replicas created or ended, reserves seats of workshops that open, fills their pools, and
     * ends workshops whose time is over.
     */
    public synchronized void tick(Instant now) {
        boolean tends = store.tends();
        for (WorkshopStore.Stored stored : store.load()) {
            Workshop known = workshops.get(stored.slug());
            Instant over =
                    stored.endingAt() != null ? stored.endingAt() : stored.end().plus(properties.endWarning());
            if (!now.isBefore(over.plus(properties.keepEnded()))) {
                if (tends) {
                    store.forget(stored); // long over: the other replicas forget it when they see it gone
                }
                continue;
            }
            if (known == null) {
                track(stored, now);
            } else if (stored.endingAt() != null) {
                ending(known, stored.endingAt());
            }
        }
        for (Workshop w : workshops.values()) {
            List<Session> toStop = List.of();
            synchronized (w) {
                boolean running = w.state == Workshop.State.READY
                        || w.state == Workshop.State.BUILDING
                        || w.state == Workshop.State.FAILED; // whatever became of its build here, it ends on time
                if (running && !now.isBefore(w.end)) {
                    w.state = Workshop.State.ENDING;
                    w.endingAt = w.end.plus(properties.endWarning()); // the same on every replica
                }
                if (w.state == Workshop.State.ENDING && !now.isBefore(w.endingAt)) {
                    w.state = Workshop.State.ENDED;
                    if (w.reservation != null) {
                        w.reservation.close();
                    }
                    log.info("workshop {} ended", w.slug);
                }
                if (w.state == Workshop.State.ENDED && tends) {
                    toStop = w.members(); // also those another replica started after this one saw the end
                }
                boolean open = w.state == Workshop.State.READY && !now.isBefore(w.start.minus(properties.leadTime()));
                if (open && w.reservation == null) {
                    w.reservation = capacity.reserve(w.slug, w.seats);
                    log.info("workshop {} opened: {} seats reserved", w.slug, w.seats);
                }
                if (open && tends) {
                    int pooled = w.pooled();
                    while (pooled + w.starting < w.poolSize && w.line().isEmpty()) {
                        Capacity.Seat seat = w.reservation.take(w.repo.repoUrl());
                        if (seat == null) {
                            break;
                        }
                        w.starting++;
                        starters.execute(() -> startPooled(w, seat));
                    }
                }
                w.line().changed();
            }
            for (Session s : toStop) {
                sessions.stop(s.id(), "its workshop, " + w.name + ", has ended.");
            }
        }
        workshops.values().removeIf(w -> {
            synchronized (w) {
                if (w.state == Workshop.State.ENDED && !now.isBefore(w.endingAt.plus(properties.keepEnded()))) {
                    log.info("workshop {} forgotten: it ended more than {} ago", w.slug, properties.keepEnded());
                    return true;
                }
                return false;
            }
        });
    }

    private void startPooled(Workshop w, Capacity.Seat seat) {
        Session s = null;
        try {
            s = startSession(w, seat, Membership.pool(w.slug));
        } catch (Exception e) { // not only RuntimeException: HTTP clients rethrow an interruption as it is
            seat.release();
            if (e instanceof InterruptedException
                    || e.getCause() instanceof InterruptedException
                    || Thread.currentThread().isInterrupted()) {
                Thread.currentThread().interrupt();
                log.info("workshop {}: a pool session being started was given up (the portal is stopping)", w.slug);
            } else {
                log.warn("workshop {}: a pool session did not start: {}", w.slug, e.getMessage());
            }
        } finally {
            synchronized (w) {
                w.starting--;
                w.line().changed();
            }
        }
        if (s != null && w.state() != Workshop.State.READY) {
            sessions.stop(s.id(), "its workshop has ended.");
        }
    }

    private static String slugify(String name) {
        String slug =
                name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        if (slug.length() > 40) {
            slug = slug.substring(0, 40).replaceAll("-+$", "");
        }
        return slug.isEmpty() ? "workshop" : slug;
    }

    private String randomSuffix() {
        char[] alphabet = "abcdefghjkmnpqrstuvwxyz23456789".toCharArray();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            out.append(alphabet[random.nextInt(alphabet.length)]);
        }
        return out.toString();
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        starters.shutdownNow();
    }
}
