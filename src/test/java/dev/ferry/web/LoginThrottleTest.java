package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.ferry.testing.MovableClock;

/** The counting behind the operator login's throttle, with a clock the test moves. */
class LoginThrottleTest {

    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-06T12:00:00Z"));
    private final LoginThrottle throttle = new LoginThrottle(2, 3, Duration.ofMinutes(15), clock);

    @Test
    void anAddressGetsItsAttemptsThenWaitsForTheWindowToEnd() {
        assertThat(throttle.attempt("a")).isNull();
        assertThat(throttle.attempt("a")).isNull();
        LoginThrottle.Refusal refused = throttle.attempt("a");
        assertThat(refused.everyone()).isFalse();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofMinutes(15));
        assertThat(refused.first()).isTrue();
        assertThat(throttle.attempt("a").first()).as("logged once per window").isFalse();
        clock.advance(Duration.ofMinutes(15));
        assertThat(throttle.attempt("a")).isNull();
    }

    @Test
    void allAddressesTogetherShareTheGlobalLimit() {
        assertThat(throttle.attempt("a")).isNull();
        assertThat(throttle.attempt("b")).isNull();
        assertThat(throttle.attempt("c")).isNull();
        LoginThrottle.Refusal refused = throttle.attempt("d");
        assertThat(refused.everyone()).isTrue();
        assertThat(refused.sentence()).contains("logins are paused");
    }

    @Test
    void refusedAttemptsFromNewAddressesAreNotRemembered() {
        LoginThrottle small = new LoginThrottle(2, 1, Duration.ofMinutes(15), clock);
        assertThat(small.attempt("a")).isNull();
        for (int i = 0; i < 5000; i++) {
            assertThat(small.attempt("2001:db8::" + Integer.toHexString(i)).everyone())
                    .isTrue();
        }
        assertThat(small.addressesKept())
                .as("only the address whose attempt went ahead")
                .isEqualTo(1);
        clock.advance(Duration.ofMinutes(15));
        assertThat(small.attempt("b")).as("a new window").isNull();
    }

    @Test
    void aSuccessfulLoginGivesItsAddressesAttemptsBack() {
        throttle.attempt("a");
        throttle.attempt("a");
        throttle.succeeded("a");
        assertThat(throttle.attempt("a")).isNull();
        assertThat(throttle.attempt("b")).isNull();
        assertThat(throttle.attempt("b")).isNull();
    }

    @Test
    void theAddressesOfOneIpv6BlockShareTheirAttempts() {
        assertThat(throttle.attempt("2001:db8:9:9::1")).isNull();
        assertThat(throttle.attempt("2001:db8:9:9::2")).isNull();
        LoginThrottle.Refusal refused = throttle.attempt("2001:db8:9:9::3");
        assertThat(refused).as("a third address of the same /64").isNotNull();
        assertThat(refused.everyone())
                .as("the bound of one address, not the global one")
                .isFalse();
        assertThat(throttle.failures("2001:db8:9:9::77")).isEqualTo(2);
    }
}
