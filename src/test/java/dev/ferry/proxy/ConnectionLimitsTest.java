package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

class ConnectionLimitsTest {

    @Test
    void theGlobalCapLeavesRoomForThreeDescriptorsAConnectionAndSpareOnes() {
        assertThat(ConnectionLimits.fitToFileLimit(10_000, 1_048_576)).isEqualTo(10_000);
        assertThat(ConnectionLimits.fitToFileLimit(10_000, 20_000)).isEqualTo((20_000 - 2_500) / 3);
        assertThat(ConnectionLimits.fitToFileLimit(10_000, 1_024)).isEqualTo((1_024 - 256) / 3);
        assertThat(ConnectionLimits.fitToFileLimit(10_000, 100)).isEqualTo(1);
        assertThat(ConnectionLimits.fitToFileLimit(10_000, -1))
                .as("limit unknown")
                .isEqualTo(10_000);
    }

    @Test
    void anIpv6HostCountsOncePerSlash64() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(100, 2);
        assertThat(limits.admit(InetAddress.getByName("2001:db8:1:2::1"), false))
                .isNull();
        assertThat(limits.admit(InetAddress.getByName("2001:db8:1:2:ffff::9"), false))
                .isNull();
        assertThat(limits.admit(InetAddress.getByName("2001:db8:1:2:abcd::7"), false))
                .isEqualTo(ConnectionLimits.Refusal.ADDRESS);
        assertThat(limits.admit(InetAddress.getByName("2001:db8:1:3::1"), false))
                .as("another /64")
                .isNull();
    }

    @Test
    void releasingFreesTheAddressAndTheGlobalCount() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(2, 1);
        InetAddress a = InetAddress.getByName("192.0.2.1");
        InetAddress b = InetAddress.getByName("192.0.2.2");
        assertThat(limits.admit(a, false)).isNull();
        assertThat(limits.admit(a, false)).isEqualTo(ConnectionLimits.Refusal.ADDRESS);
        assertThat(limits.admit(b, true)).as("exempt from the address cap").isNull();
        assertThat(limits.admit(b, true)).isEqualTo(ConnectionLimits.Refusal.GLOBAL);
        limits.release(a, false);
        assertThat(limits.open()).isEqualTo(1);
        assertThat(limits.admit(a, false)).isNull();
    }
}
