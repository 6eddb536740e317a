package dev.ferry.platform.kubernetes;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.util.CallGenerator;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Watchable;

/**
 * An informer's list and watch, paced while the API server fails. client-java's reflector retries a failed list every
 * second (its controller reruns it at a fixed 1 s delay) and a refused watch every second, forever; with four informers
 * per replica that is four requests and four warnings a second against an API server that is down or overloaded. Here
 * each failed request makes the next one wait, doubling from one second up to {@code maxDelay}, with jitter so that
 * replicas do not retry in step; the first success resets it. The wait happens on the informer's own thread, before
 * the request (an interrupt — the informer stopping — ends it).
 */
final class PacedListerWatcher<T extends KubernetesObject, L extends KubernetesListObject>
        implements ListerWatcher<T, L> {

    private static final Duration FIRST_DELAY = Duration.ofSeconds(1);

    private final ApiClient client;
    private final CallGenerator calls;
    private final Class<T> type;
    private final Class<L> listType;
    private final Outage outage;
    private final Duration maxDelay;
    private int failures;
    private long notBeforeNanos;

    PacedListerWatcher(
            ApiClient client, CallGenerator calls, Class<T> type, Class<L> listType, Outage outage, Duration maxDelay) {
        this.client = client;
        this.calls = calls;
        this.type = type;
        this.listType = listType;
        this.outage = outage;
        this.maxDelay = maxDelay.compareTo(FIRST_DELAY) < 0 ? FIRST_DELAY : maxDelay;
    }

    @Override
    public L list(CallGeneratorParams params) throws ApiException {
        pace();
        try {
            L list = client.<L>execute(calls.generate(params), listType).getData();
            succeeded();
            return list;
        } catch (ApiException e) {
            if (e.getCode() != 410) { // 410: the resourceVersion expired; the server is well, the reflector relists
                failed(e);
            }
            throw e;
        } catch (RuntimeException e) {
            failed(e);
            throw e;
        }
    }

    @Override
    public Watchable<T> watch(CallGeneratorParams params) throws ApiException {
        pace();
        try {
            Watchable<T> watch = Watch.createWatch(
                    client,
                    client.getHttpClient().newCall(calls.generate(params).request()),
                    TypeToken.getParameterized(Watch.Response.class, type).getType());
            succeeded(); // the server answered 200 (the reflector re-watches without listing after a watch ends)
            return watch;
        } catch (ApiException | RuntimeException e) {
            failed(e);
            throw e;
        }
    }

    private void pace() {
        long wait;
        synchronized (this) {
            wait = notBeforeNanos - System.nanoTime();
        }
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                // the informer is stopping: no request, and no failure to count or warn about
                throw new IllegalStateException("the informer for " + type.getSimpleName() + " is stopping");
            }
        }
    }

    private void succeeded() {
        synchronized (this) {
            failures = 0;
            notBeforeNanos = 0;
        }
        outage.recovered(type);
    }

    private void failed(Throwable t) {
        Duration delay;
        synchronized (this) {
            failures++;
            delay = delay(failures, maxDelay, ThreadLocalRandom.current().nextDouble());
            notBeforeNanos = System.nanoTime() + delay.toNanos();
        }
        outage.failed(type, t, delay);
    }

    /** The wait after the {@code failures}th failure in a row: 1 s doubling, capped, then ±20% by {@code random}. */
    static Duration delay(int failures, Duration max, double random) {
        long base = FIRST_DELAY.toMillis() << Math.min(20, Math.max(0, failures - 1));
        long capped = Math.min(base, max.toMillis());
        return Duration.ofMillis(Math.round(capped * (0.8 + 0.4 * random)));
    }

    /**
     * The API server's trouble as the log tells it, for all informers of a replica together: one WARN when requests
     * start failing, at most one WARN a minute while they go on (with how many failed meanwhile), and one INFO when a
     * request succeeds again.
     */
    static final class Outage {

        private static final Logger log = LoggerFactory.getLogger(KubeState.class);
        static final Duration WARN_EVERY = Duration.ofMinutes(1);

        private Instant since;
        private Instant lastWarn = Instant.EPOCH;
        private int unreported;
        private volatile String lastError;
        private volatile Instant lastErrorAt = Instant.EPOCH;

        void failed(Class<?> type, Throwable t, Duration retryIn) {
            String message = t instanceof ApiException e
                    ? KubeApi.describe(e)
                    : t.getClass().getSimpleName() + ": " + t.getMessage();
            lastError = message;
            lastErrorAt = Instant.now();
            String line = null;
            synchronized (this) {
                Instant now = Instant.now();
                if (since == null) {
                    since = now;
                    lastWarn = now;
                    unreported = 0;
                    line = "watching " + type.getSimpleName() + " failed: " + message
                            + " (retrying with a growing delay; warned "
                            + "again at most once a minute while it lasts)";
                } else if (Duration.between(lastWarn, now).compareTo(WARN_EVERY) >= 0) {
                    line = "the Kubernetes API still fails since " + since + " (" + (unreported + 1)
                            + " failed requests in the " + "last minute); last: watching " + type.getSimpleName() + ": "
                            + message;
                    lastWarn = now;
                    unreported = 0;
                } else {
                    unreported++;
                }
            }
            if (line != null) {
                log.warn(line);
            } else {
                log.debug(
                        "watching {} failed: {} (retrying in {} ms)",
                        type.getSimpleName(),
                        message,
                        retryIn.toMillis());
            }
        }

        void recovered(Class<?> type) {
            Instant began;
            synchronized (this) {
                began = since;
                since = null;
            }
            if (began != null) {
                log.info(
                        "the Kubernetes API answers again (watching {}); it failed for {} s",
                        type.getSimpleName(),
                        Duration.between(began, Instant.now()).toSeconds());
            }
        }

        /** The last failure in the last minute, or null. */
        String recentError() {
            return Duration.between(lastErrorAt, Instant.now()).toSeconds() < 60 ? lastError : null;
        }

        /**
         * A failure the reflector reported on its own (e.g. an error inside a running watch): kept for {@code /health};
         * a lasting one fails the relist that follows, which is warned about.
         */
        void remember(Class<?> type, Throwable t) {
            lastError = t instanceof ApiException e
                    ? KubeApi.describe(e)
                    : t.getClass().getSimpleName() + ": " + t.getMessage();
            lastErrorAt = Instant.now();
            log.debug("watching {} ended: {}", type.getSimpleName(), lastError);
        }
    }
}
