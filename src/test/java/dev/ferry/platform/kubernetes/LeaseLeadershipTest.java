package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.kubernetes.client.util.Config;

/**
 * The culler's election when the leader goes away: a replica that dies without a word (its Lease is simply no longer
 * renewed) and one that shuts down (it gives the Lease up). Two elections driven by hand against the API double, so
 * that the test decides when each replica tries, as the timers of two real replicas would.
 */
class LeaseLeadershipTest {

    private static final String LEASE = "ferry-culler-test";

    private KubeApiDouble double_;
    private KubeApi api;

    @BeforeEach
    void apiServer() throws Exception {
        double_ = new KubeApiDouble();
        api = new KubeApi(
                KubeApiDouble.NAMESPACE, Config.fromUrl(double_.url(), false), Config.fromUrl(double_.url(), false));
        // a first request warms the client up, so that the elections below are not timed against a cold start
        try {
            api.coordination()
                    .readNamespacedLease("warm-up", KubeApiDouble.NAMESPACE)
                    .execute();
        } catch (io.kubernetes.client.openapi.ApiException expected) {
            assertThat(expected.getCode()).isEqualTo(404);
        }
    }

    @AfterEach
    void stop() {
        double_.close();
    }

    @Test
    void aLeaderThatDiesIsReplacedOnlyAfterItsLeaseRunsOutAndNeverOverlaps() throws Exception {
        Duration leaseDuration = Duration.ofSeconds(3);
        LeaseLeadership dead = new LeaseLeadership(api, LEASE, leaseDuration);
        LeaseLeadership next = new LeaseLeadership(api, LEASE, leaseDuration);
        long beforeAcquiring = System.nanoTime(); // the Lease's renewTime is no earlier than this
        dead.tryAcquireOrRenew();
        assertThat(dead.isLeader()).isTrue();

        // `dead` renews no more and gives nothing up. `next` tries again and again, as its timer would; at every try
        // at most one of them leads. `dead` must stop calling itself leader on its own, before the Lease runs out.
        long lost = 0;
        long takenOver = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (takenOver == 0 && System.nanoTime() < deadline) {
            next.tryAcquireOrRenew();
            boolean deadLeads = dead.isLeader();
            assertThat(deadLeads && next.isLeader()).as("two leaders at once").isFalse();
            if (!deadLeads && lost == 0) {
                lost = System.nanoTime();
            }
            if (next.isLeader()) {
                takenOver = System.nanoTime();
            }
            Thread.sleep(50);
        }
        assertThat(takenOver).as("the next replica to take over").isNotZero();
        assertThat(Duration.ofNanos(lost - beforeAcquiring))
                .as("the dead leader stepped down before its Lease ran out")
                .isLessThan(leaseDuration);
        assertThat(Duration.ofNanos(takenOver - beforeAcquiring))
                .as("taken over only once the Lease ran out")
                .isGreaterThanOrEqualTo(leaseDuration.minusMillis(100));

        Lease lease = double_.fabric8()
                .leases()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName(LEASE)
                .get();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(next.identity());
        assertThat(lease.getSpec().getLeaseTransitions()).isEqualTo(1);

        // the old leader comes back (a paused process): it finds the Lease taken and stays a follower
        dead.tryAcquireOrRenew();
        assertThat(dead.isLeader()).isFalse();
        next.tryAcquireOrRenew();
        assertThat(next.isLeader()).isTrue();
    }

    @Test
    void aLeaderThatShutsDownHandsTheLeaseOverAtOnce() throws Exception {
        LeaseLeadership leaving = new LeaseLeadership(api, LEASE, Duration.ofSeconds(30));
        LeaseLeadership next = new LeaseLeadership(api, LEASE, Duration.ofSeconds(30));
        leaving.tryAcquireOrRenew();
        next.tryAcquireOrRenew();
        assertThat(leaving.isLeader()).isTrue();
        assertThat(next.isLeader()).isFalse();

        leaving.close();

        assertThat(leaving.isLeader()).isFalse();
        next.tryAcquireOrRenew();
        assertThat(next.isLeader()).as("no wait for a 30 s Lease to run out").isTrue();
        assertThat(holder()).isEqualTo(next.identity());
    }

    @Test
    void aLeaderWhoseOwnViewHasLapsedStillGivesTheLeaseUp() throws Exception {
        LeaseLeadership leaving = new LeaseLeadership(api, LEASE, Duration.ofSeconds(2));
        LeaseLeadership next = new LeaseLeadership(api, LEASE, Duration.ofSeconds(30));
        leaving.tryAcquireOrRenew();
        Thread.sleep(1450); // past 2/3 of its 2 s: it no longer calls itself leader, but the Lease still names it
        assertThat(leaving.isLeader()).isFalse();

        leaving.close();

        next.tryAcquireOrRenew();
        assertThat(next.isLeader()).isTrue();
    }

    /**
     * #19.12: a follower whose clock is an hour ahead of the leader's must not take a Lease the leader keeps renewing;
     * judged by comparing the leader's renewTime with its own clock, it found the Lease an hour old and took it.
     */
    @Test
    void aFollowerWhoseClockIsAheadDoesNotStealALiveLease() throws Exception {
        Duration leaseDuration = Duration.ofSeconds(2);
        LeaseLeadership leader = new LeaseLeadership(api, LEASE, leaseDuration);
        LeaseLeadership ahead = new LeaseLeadership(
                api, LEASE, leaseDuration, java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofHours(1)));
        leader.tryAcquireOrRenew();
        long end = System.nanoTime() + leaseDuration.multipliedBy(2).toNanos();
        while (System.nanoTime() < end) {
            leader.tryAcquireOrRenew(); // renewing every ~third of the duration, as its timer does
            ahead.tryAcquireOrRenew();
            assertThat(ahead.isLeader())
                    .as("the follower with a clock an hour ahead took a live Lease")
                    .isFalse();
            assertThat(leader.isLeader()).isTrue();
            Thread.sleep(leaseDuration.toMillis() / 4);
        }
        assertThat(holder()).isEqualTo(leader.identity());
    }

    /**
     * #19.12: a follower whose clock is an hour behind takes over a dead leader's Lease once it has seen no renewal for
     * the Lease's duration; judged by the renewTime, it waited an hour.
     */
    @Test
    void aFollowerWhoseClockIsBehindTakesOverADeadLeaseAfterItsDuration() throws Exception {
        Duration leaseDuration = Duration.ofSeconds(2);
        LeaseLeadership dead = new LeaseLeadership(api, LEASE, leaseDuration);
        LeaseLeadership behind = new LeaseLeadership(
                api, LEASE, leaseDuration, java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofHours(-1)));
        dead.tryAcquireOrRenew();
        long firstTry = System.nanoTime();
        long takenOver = 0;
        while (takenOver == 0
                && System.nanoTime() - firstTry < Duration.ofSeconds(8).toNanos()) {
            behind.tryAcquireOrRenew();
            if (behind.isLeader()) {
                takenOver = System.nanoTime();
            }
            Thread.sleep(100);
        }
        assertThat(takenOver)
                .as("the follower whose clock is behind took over the dead leader's Lease")
                .isNotZero();
        assertThat(Duration.ofNanos(takenOver - firstTry))
                .as("only once the Lease had run out")
                .isGreaterThanOrEqualTo(leaseDuration)
                .isLessThan(leaseDuration.plusSeconds(2));
    }

    /** Who holds the Lease, as the API server has it. */
    private String holder() {
        return double_.fabric8()
                .leases()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName(LEASE)
                .get()
                .getSpec()
                .getHolderIdentity();
    }
}
