package dev.ferry.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import dev.ferry.FerryException;

class StreamLimitsTest {

    @Test
    void theAddressesOfOneIpv6BlockShareTheirStreams() {
        StreamLimits limits = new StreamLimits(2, 100);
        limits.acquire("2001:db8:3:4::1");
        limits.acquire("2001:db8:3:4::2");
        assertThatThrownBy(() -> limits.acquire("2001:db8:3:4:1::3"))
                .as("a third address of the same /64")
                .isInstanceOf(FerryException.class)
                .hasMessageContaining("already follows 2 launches");
        limits.acquire("2001:db8:3:5::1");
        assertThat(limits.open()).isEqualTo(3);
    }
}
