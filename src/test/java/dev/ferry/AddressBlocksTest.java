package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AddressBlocksTest {

    @Test
    void anIpv4AddressCountsAsItself() {
        assertThat(AddressBlocks.of("198.51.100.7")).isEqualTo("198.51.100.7");
        assertThat(AddressBlocks.of("198.51.100.8")).isNotEqualTo(AddressBlocks.of("198.51.100.7"));
    }

    @Test
    void theAddressesOfOneIpv6BlockCountAsOneHowEverTheyAreWritten() {
        String one = AddressBlocks.of("2001:db8:1:2::1");
        assertThat(one).isEqualTo("20010db800010002::/64");
        assertThat(AddressBlocks.of("2001:db8:1:2:ffff:ffff:ffff:fffe")).isEqualTo(one);
        assertThat(AddressBlocks.of("[2001:0db8:0001:0002::abcd]")).isEqualTo(one);
        assertThat(AddressBlocks.of("2001:DB8:1:2::9")).isEqualTo(one);
        assertThat(AddressBlocks.of("2001:db8:1:3::1")).as("the next /64").isNotEqualTo(one);
    }

    @Test
    void anIpv4AddressWrittenAsIpv6CountsAsTheIpv4Address() {
        assertThat(AddressBlocks.of("::ffff:198.51.100.7")).isEqualTo("198.51.100.7");
    }

    @Test
    void textThatIsNoAddressIsLeftAsItIsAndNeverLookedUp() {
        assertThat(AddressBlocks.of("localhost")).isEqualTo("localhost");
        assertThat(AddressBlocks.of("example.org:80")).isEqualTo("example.org:80");
        assertThat(AddressBlocks.of("not:an:address:at:all:zz")).isEqualTo("not:an:address:at:all:zz");
        assertThat(AddressBlocks.of((String) null)).isNull();
    }
}
