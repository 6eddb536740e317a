package dev.ferry.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;

/** The pieces behind rate limits, build tokens, bans and trusted proxies. */
class AbuseControlsTest {

    @Test
    void cidrBlocksMatchTheirAddressesOnly() {
        CidrSet set = new CidrSet(List.of("10.0.0.0/8", "192.168.1.7", "2001:db8::/32"), "test");
        assertThat(set.contains("10.200.3.4")).isTrue();
        assertThat(set.contains("11.0.0.1")).isFalse();
        assertThat(set.contains("192.168.1.7")).isTrue();
        assertThat(set.contains("192.168.1.8")).isFalse();
        assertThat(set.contains("2001:db8:1::5")).isTrue();
        assertThat(set.contains("2001:db9::1")).isFalse();
        assertThat(set.contains("not-an-address.example")).isFalse();
        assertThatThrownBy(() -> new CidrSet(List.of("10.0.0.0/33"), "ferry.ban-networks"))
                .hasMessageContaining("prefix");
        assertThatThrownBy(() -> new CidrSet(List.of("evil.example/8"), "ferry.ban-networks"))
                .hasMessageContaining("not an IP");
    }

    private static MockHttpServletRequest request(String peer, String forwardedFor) {
        MockHttpServletRequest r = new MockHttpServletRequest("GET", "/build/gh/o/r/HEAD");
        r.setRemoteAddr(peer);
        if (forwardedFor != null) {
            r.addHeader("X-Forwarded-For", forwardedFor);
        }
        return r;
    }

    @Test
    void forwardedForIsBelievedOnlyFromTrustedProxies() {
        ClientAddresses addresses = new ClientAddresses(new CidrSet(List.of("10.0.0.0/8"), "test"));
        assertThat(addresses.of(request("10.1.1.1", "203.0.113.9"))).isEqualTo("203.0.113.9");
        assertThat(addresses.of(request("10.1.1.1", "198.51.100.1, 203.0.113.9, 10.2.2.2")))
                .isEqualTo("203.0.113.9");
        assertThat(addresses.of(request("198.51.100.77", "203.0.113.9")))
                .as("an untrusted peer cannot choose its address")
                .isEqualTo("198.51.100.77");
        assertThat(addresses.of(request("10.1.1.1", "<script>"))).isEqualTo("10.1.1.1");
        assertThat(new ClientAddresses(new CidrSet(List.of(), "test")).of(request("10.1.1.1", "203.0.113.9")))
                .isEqualTo("10.1.1.1");

        // a proxy that adds a line of its own: the visitor's line comes first and is not the one believed
        org.springframework.mock.web.MockHttpServletRequest twoLines = request("10.1.1.1", "203.0.113.9");
        twoLines.addHeader("X-Forwarded-For", "198.51.100.7");
        assertThat(addresses.of(twoLines)).isEqualTo("198.51.100.7");
    }

    @Test
    void tokenBucketAllowsTheBurstThenTheRate() {
        RateLimiter limiter = new RateLimiter(60, 3); // one a second, three at once
        long t = 0;
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.take("a", t).allowed()).isTrue();
        }
        RateLimiter.Decision refused = limiter.take("a", t);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.remaining()).isZero();
        assertThat(refused.resetSeconds()).isEqualTo(1);
        assertThat(limiter.take("b", t).allowed())
                .as("each address has its own bucket")
                .isTrue();
        assertThat(limiter.take("a", t + 1_000_000_000L).allowed())
                .as("refilled after a second")
                .isTrue();
        assertThat(limiter.take("a", t + 1_000_000_000L).allowed()).isFalse();
    }

    @Test
    void buildTokensAreBoundToTheirLaunchAndClientAndExpire() {
        BuildTokens tokens = new BuildTokens("shared secret", Duration.ofMinutes(10), 5);
        Instant now = Instant.parse("2026-11-29T10:00:00Z");
        String token = tokens.issue("gh/o/r/HEAD", "198.51.100.1", now);
        assertThat(tokens.redeem(token, "gh/o/other/HEAD", "198.51.100.1", now)).isFalse();
        assertThat(tokens.redeem(token, "gh/o/r/HEAD", "198.51.100.2", now))
                .as("another address cannot use it")
                .isFalse();
        assertThat(tokens.redeem(token, "gh/o/r/HEAD", "198.51.100.1", now.plus(Duration.ofMinutes(11))))
                .isFalse();
        assertThat(tokens.redeem(token.substring(0, token.length() - 2) + "xx", "gh/o/r/HEAD", "198.51.100.1", now))
                .isFalse();
        assertThat(tokens.redeem("9999999999.AAAAAAAAAAAAAAAAAAAAAA.forged", "gh/o/r/HEAD", "198.51.100.1", now))
                .isFalse();
        assertThat(new BuildTokens("another secret", Duration.ofMinutes(10), 5)
                        .redeem(token, "gh/o/r/HEAD", "198.51.100.1", now))
                .as("another key does not accept it")
                .isFalse();
        assertThat(tokens.redeem(token, "gh/o/r/HEAD", "198.51.100.1", now.plusSeconds(60)))
                .isTrue();
    }

    @Test
    void aBuildTokenStartsAsManyLaunchesAsItsUsesAndNoMore() {
        Instant now = Instant.parse("2026-11-29T10:00:00Z");
        BuildTokens once = new BuildTokens("", Duration.ofMinutes(10), 1);
        String token = once.issue("gh/o/r/HEAD", "198.51.100.1", now);
        assertThat(once.redeem(token, "gh/o/r/HEAD", "198.51.100.1", now)).isTrue();
        assertThat(once.redeem(token, "gh/o/r/HEAD", "198.51.100.1", now))
                .as("spent")
                .isFalse();
        assertThat(once.redeem(once.issue("gh/o/r/HEAD", "198.51.100.1", now), "gh/o/r/HEAD", "198.51.100.1", now))
                .as("a new page's token is a new one")
                .isTrue();

        BuildTokens twice = new BuildTokens("", Duration.ofMinutes(10), 2);
        String two = twice.issue("gh/o/r/HEAD", "198.51.100.1", now);
        assertThat(twice.redeem(two, "gh/o/r/HEAD", "198.51.100.1", now)).isTrue();
        assertThat(twice.redeem(two, "gh/o/r/HEAD", "198.51.100.1", now)).isTrue();
        assertThat(twice.redeem(two, "gh/o/r/HEAD", "198.51.100.1", now)).isFalse();
    }

    @Test
    void streamLimitsBoundEachAddressAndTheTotalAndTakeBackEachPermitOnce() {
        StreamLimits limits = new StreamLimits(2, 3);
        StreamLimits.Permit a1 = limits.acquire("a");
        StreamLimits.Permit a2 = limits.acquire("a");
        assertThatThrownBy(() -> limits.acquire("a"))
                .isInstanceOf(dev.ferry.FerryException.class)
                .hasMessageContaining("already follows 2 launches")
                .extracting("status")
                .isEqualTo(429);
        StreamLimits.Permit b1 = limits.acquire("b");
        assertThatThrownBy(() -> limits.acquire("c"))
                .hasMessageContaining("as many launches as it can (3 at once)")
                .extracting("status")
                .isEqualTo(503);
        a1.close();
        a1.close(); // twice: counted once
        assertThat(limits.open()).isEqualTo(2);
        limits.acquire("c").close();
        a2.close();
        b1.close();
        assertThat(limits.open()).isZero();
        assertThat(new StreamLimits(0, 0).acquire("a")).as("0: no bound").isNotNull();
    }
}
