package dev.ferry.platform.kubernetes;

import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;

import dev.ferry.Threads;
import dev.ferry.cull.Leadership;

/**
 * Elects the one portal replica that culls (and cleans up) with a {@code coordination.k8s.io/v1} Lease: the holder
 * renews it every third of its duration; another replica takes it over only when it has not seen the Lease renewed
 * for its whole duration, timed by its own monotonic clock from the moment it last saw the Lease change (as client-go's
 * leader election does). The renewTime another replica wrote is never compared with this replica's clock: with clocks
 * apart by more than the duration, that comparison let a follower steal a live Lease, or keep waiting for a dead one.
 * Updates carry the Lease's resourceVersion, so two replicas racing for it cannot both win (one gets 409). A leader that
 * cannot renew in time stops calling itself leader before its Lease can expire. Giving the Lease up empties its holder.
 */
final class LeaseLeadership implements Leadership, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LeaseLeadership.class);

    private final KubeApi api;
    private final String name;
    private final Duration duration;
    private final String identity;
    private final List<Runnable> onLeading = new ArrayList<>();
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("ferry-leader-election"));
    private volatile long leaderUntilNanos;
    private volatile boolean everLed;
    /** The wall clock renewTime and acquireTime are written with (only written: never compared with another's). */
    private final Clock clock;
    /** The Lease record this replica last saw (holder, renewTime, transitions), and when by its monotonic clock. */
    private String observed;

    private long observedAtNanos;

    LeaseLeadership(KubeApi api, String name, Duration duration) {
        this(api, name, duration, Clock.systemUTC());
    }

    LeaseLeadership(KubeApi api, String name, Duration duration, Clock clock) {
        this.clock = clock;
        this.api = api;
        this.name = name;
        this.duration = duration.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : duration;
        String host = System.getenv().getOrDefault("HOSTNAME", "ferry");
        this.identity = host + "_" + UUID.randomUUID().toString().substring(0, 8);
    }

    String identity() {
        return identity;
    }

    void start() {
        long every = Math.max(300, duration.toMillis() / 3);
        timer.scheduleWithFixedDelay(this::tryAcquireOrRenew, 0, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public boolean isLeader() {
        return System.nanoTime() < leaderUntilNanos;
    }

    void tryAcquireOrRenew() {
        long attemptStarted = System.nanoTime();
        OffsetDateTime now = OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC);
        try {
            V1Lease lease;
            try {
                lease = api.coordination()
                        .readNamespacedLease(name, api.namespace)
                        .execute();
            } catch (ApiException e) {
                if (e.getCode() != 404) {
                    throw e;
                }
                lease = null;
            }
            if (lease == null) {
                api.coordination()
                        .createNamespacedLease(
                                api.namespace,
                                new V1Lease()
                                        .apiVersion("coordination.k8s.io/v1")
                                        .kind("Lease")
                                        .metadata(new V1ObjectMeta()
                                                .name(name)
                                                .labels(Map.of(Labels.MANAGED_BY, Labels.FERRY)))
                                        .spec(spec(now, now, 0)))
                        .execute();
                becameLeader(attemptStarted);
                return;
            }
            V1LeaseSpec spec = lease.getSpec() == null ? new V1LeaseSpec() : lease.getSpec();
            boolean mine = identity.equals(spec.getHolderIdentity());
            int seconds = spec.getLeaseDurationSeconds() == null
                    ? (int) duration.toSeconds()
                    : spec.getLeaseDurationSeconds();
            boolean expired = expired(spec, seconds, attemptStarted);
            if (!mine && !expired) {
                leaderUntilNanos = 0;
                return;
            }
            int transitions = spec.getLeaseTransitions() == null ? 0 : spec.getLeaseTransitions();
            lease.apiVersion("coordination.k8s.io/v1").kind("Lease");
            lease.spec(
                    mine
                            ? spec(spec.getAcquireTime() == null ? now : spec.getAcquireTime(), now, transitions)
                            : spec(now, now, transitions + 1));
            api.coordination()
                    .replaceNamespacedLease(name, api.namespace, lease)
                    .execute();
            if (!mine) {
                log.info("this replica ({}) took over the lease {} from {}", identity, name, spec.getHolderIdentity());
            }
            becameLeader(attemptStarted);
        } catch (ApiException e) {
            if (e.getCode() != 409) {
                log.warn("lease {}: {}", name, KubeApi.describe(e));
            }
            // keep leading only until the last successful renewal runs out
        } catch (RuntimeException e) {
            log.warn("lease {}: {}", name, e.toString());
        }
    }

    /**
     * Whether the holder has let the Lease run out, as this replica sees it: no holder (given up), or no change to
     * the record for {@code seconds} of this replica's own monotonic time since it first saw the record as it is.
     */
    private boolean expired(V1LeaseSpec spec, int seconds, long nowNanos) {
        String holder = spec.getHolderIdentity();
        if (holder == null || holder.isEmpty()) {
            return true;
        }
        String record = holder + "|" + spec.getRenewTime() + "|" + spec.getLeaseTransitions();
        if (!record.equals(observed)) {
            observed = record;
            observedAtNanos = nowNanos;
            return false;
        }
        return nowNanos - observedAtNanos >= Duration.ofSeconds(seconds).toNanos();
    }

    private V1LeaseSpec spec(OffsetDateTime acquired, OffsetDateTime renewed, int transitions) {
        return new V1LeaseSpec()
                .holderIdentity(identity)
                .leaseDurationSeconds((int) Math.max(1, duration.toSeconds()))
                .acquireTime(acquired)
                .renewTime(renewed)
                .leaseTransitions(transitions);
    }

    private void becameLeader(long attemptStarted) {
        boolean was = isLeader();
        // measured from before the request: a slow API shortens leadership, never lengthens it
        leaderUntilNanos = attemptStarted + duration.toNanos() * 2 / 3;
        everLed = true;
        if (!was) {
            log.info("this replica ({}) leads: it culls sessions and cleans up", identity);
            onLeading.forEach(Runnable::run);
        }
    }

    /**
     * Gives the Lease up if this replica holds it, so that another takes over at its next try rather than after the
     * Lease runs out. Waits for a renewal under way first (else it could renew after the release), and releases
     * whenever the Lease names this replica, even if this replica's own view of its leadership has just lapsed.
     */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            if (!timer.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("lease {}: a renewal still under way after 5 s; releasing anyway", name);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leaderUntilNanos = 0;
        if (!everLed) {
            return; // a replica that never held the Lease has nothing to give up (and asks the API nothing)
        }
        for (int attempt = 1; attempt <= 2; attempt++) {
            try {
                V1Lease lease = api.coordination()
                        .readNamespacedLease(name, api.namespace)
                        .execute();
                if (lease.getSpec() == null || !identity.equals(lease.getSpec().getHolderIdentity())) {
                    return; // not ours (any more): nothing to give up
                }
                lease.apiVersion("coordination.k8s.io/v1").kind("Lease");
                // no holder: the others take it at their next try (as client-go's ReleaseOnCancel does)
                lease.getSpec()
                        .holderIdentity("")
                        .leaseDurationSeconds(1)
                        .renewTime(OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC));
                api.coordination()
                        .replaceNamespacedLease(name, api.namespace, lease)
                        .execute();
                log.info("this replica ({}) gave up the lease {}", identity, name);
                return;
            } catch (ApiException e) {
                if (e.getCode() == 404) {
                    return;
                }
                if (e.getCode() != 409 || attempt == 2) { // 409: changed since it was read; read it again once
                    log.warn(
                            "lease {}: giving it up failed ({}); another replica takes over when it runs out",
                            name,
                            KubeApi.describe(e));
                    return;
                }
            } catch (RuntimeException e) {
                log.warn(
                        "lease {}: giving it up failed ({}); another replica takes over when it runs out",
                        name,
                        e.toString());
                return;
            }
        }
    }
}
