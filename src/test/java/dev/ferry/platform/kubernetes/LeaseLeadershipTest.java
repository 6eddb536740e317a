package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.kubernetes.client.util.Config;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
        api = new KubeApi(KubeApiDouble.NAMESPACE, Config.fromUrl(double_.url(), false), Config.fromUrl(double_.url(), false));
    }

    @AfterEach
    void stop() {
        double_.close();
    }

    @Test
    void aLeaderThatDiesIsReplacedOnlyAfterItsLeaseRunsOutAndNeverOverlaps() throws Exception {
        LeaseLeadership dead = new LeaseLeadership(api, LEASE, Duration.ofSeconds(2));
        LeaseLeadership next = new LeaseLeadership(api, LEASE, Duration.ofSeconds(2));
        long beforeAcquiring = System.nanoTime(); // the Lease's renewTime is no earlier than this
        dead.tryAcquireOrRenew();
        assertThat(dead.isLeader()).isTrue();

        next.tryAcquireOrRenew();
        assertThat(next.isLeader()).as("the Lease is held and fresh").isFalse();

        // `dead` renews no more (no release either). It stops calling itself leader on its own, before the Lease can
        // expire for the others, so the two never lead at the same time.
        long lost = awaitNanos(() -> !dead.isLeader(), Duration.ofSeconds(3));
        long takenOver = awaitNanos(() -> {
            next.tryAcquireOrRenew();
            assertThat(next.isLeader() && dead.isLeader()).as("two leaders at once").isFalse();
            return next.isLeader();
        }, Duration.ofSeconds(6));
        assertThat(lost).isLessThan(takenOver);
        assertThat(Duration.ofNanos(takenOver - beforeAcquiring)).as("taken over only once the Lease ran out")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1900));

        Lease lease = double_.fabric8().leases().inNamespace(KubeApiDouble.NAMESPACE).withName(LEASE).get();
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
        assertThat(double_.fabric8().leases().inNamespace(KubeApiDouble.NAMESPACE).withName(LEASE).get().getSpec()
                .getHolderIdentity()).isEqualTo(next.identity());
    }

    private static long awaitNanos(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return System.nanoTime();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not within " + timeout);
    }
}
