package dev.ferry.proxy;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The proxy's routes by session id (an O(1) lookup of the path segment after {@code /user/}), and the reasons of
 * recently ended sessions so that their URLs answer with what happened instead of a bare "not found".
 */
public final class RouteTable {

    private static final int ENDED_KEPT = 10_000;

    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final List<Consumer<Route>> removalListeners = new CopyOnWriteArrayList<>();
    /**
     * Why a session ended, and where to launch its repository again.
     *
     * @param reason   a sentence ("it was idle for more than 10 minutes.")
     * @param relaunch the launch link of the repository ({@code /v2/gh/org/repo/HEAD}), or null
     */
    public record Ended(String reason, String relaunch) {}

    private final Map<String, Ended> ended = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Ended> eldest) {
            return size() > ENDED_KEPT;
        }
    };

    public void add(Route route) {
        routes.put(route.sessionId(), route);
    }

    /** The route of the session, asking the resolver when the table does not hold it (this may block briefly). */
    public Route get(String sessionId) {
        Route route = routes.get(sessionId);
        if (route == null && resolver != null) {
            route = resolver.apply(sessionId); // e.g. a session another portal replica started a moment ago
        }
        return route;
    }

    /**
     * The route of the session if the table holds it, without asking the resolver: for the front door's event loop,
     * which must not wait; a miss goes on to the portal, whose {@link #get} asks the resolver.
     */
    public Route held(String sessionId) {
        return routes.get(sessionId);
    }

    private volatile Function<String, Route> resolver;

    /**
     * Asked for a route the table does not hold (the platform may know the session before this table does); it
     * returns the route after adding it, or null. It is called for every miss of {@link #get}: it must stay cheap for
     * unknown ids, and may block briefly (not on the front door's event loop, which uses {@link #held}).
     */
    public void setResolver(Function<String, Route> resolver) {
        this.resolver = resolver;
    }

    public Collection<Route> all() {
        return routes.values();
    }

    /** Removes the route; later requests for it are told the reason. */
    public void remove(String sessionId, String reason) {
        remove(sessionId, reason, null);
    }

    /** Removes the route; later requests are told the reason, and browsers offered to launch the repository again. */
    public void remove(String sessionId, String reason, String relaunch) {
        synchronized (ended) {
            ended.put(sessionId, new Ended(reason, relaunch));
        }
        Route removed = routes.remove(sessionId);
        if (removed != null) {
            removalListeners.forEach(l -> l.accept(removed));
        }
    }

    /** Called with each route after it was removed (the proxy closes its pooled connections). */
    public void onRemoval(Consumer<Route> listener) {
        removalListeners.add(listener);
    }

    /** Why a session that is no longer routed ended, if it ended recently. */
    public Optional<String> endReason(String sessionId) {
        return ended(sessionId).map(Ended::reason);
    }

    public Optional<Ended> ended(String sessionId) {
        synchronized (ended) {
            return Optional.ofNullable(ended.get(sessionId));
        }
    }
}
