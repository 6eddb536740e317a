package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

/** The operator's password: plain ones compared in constant time, hashed ones by their encoder. */
class AdminPasswordEncoderTest {

    private final AdminPasswordEncoder encoder = new AdminPasswordEncoder();

    @Test
    void plainPasswordMatchesOnlyItself() {
        assertThat(encoder.matches("s3cret-pass", "{noop}s3cret-pass")).isTrue();
        assertThat(encoder.matches("s3cret-pas", "{noop}s3cret-pass")).isFalse();
        assertThat(encoder.matches("s3cret-passX", "{noop}s3cret-pass")).isFalse();
        assertThat(encoder.matches("", "{noop}s3cret-pass")).isFalse();
        assertThat(encoder.matches(null, "{noop}s3cret-pass")).isFalse();
    }

    @Test
    void hashedPasswordsStillWork() {
        String bcrypt = "{bcrypt}" + new BCryptPasswordEncoder().encode("hunter2");
        assertThat(encoder.matches("hunter2", bcrypt)).isTrue();
        assertThat(encoder.matches("hunter3", bcrypt)).isFalse();
    }

    @Test
    void constantTimeComparisonDoesNotStopAtTheFirstDifference() {
        // the comparison works on fixed-size digests: equal lengths and equal work whatever the inputs
        assertThat(AdminPasswordEncoder.constantTimeEquals("a", "a")).isTrue();
        assertThat(AdminPasswordEncoder.constantTimeEquals("a", "a".repeat(1000))).isFalse();
        assertThat(AdminPasswordEncoder.constantTimeEquals("abc", "abd")).isFalse();
    }
}
