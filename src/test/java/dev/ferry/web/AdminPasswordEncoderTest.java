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
        assertThat(AdminPasswordEncoder.constantTimeEquals("a", "a".repeat(1000)))
                .isFalse();
        assertThat(AdminPasswordEncoder.constantTimeEquals("abc", "abd")).isFalse();
    }

    @Test
    void aPlainConfiguredPasswordIsCheckedAgainstABcryptHashOfIt() {
        java.util.List<String> checkedAgainst = new java.util.ArrayList<>();
        org.springframework.security.crypto.password.PasswordEncoder recording =
                new org.springframework.security.crypto.password.PasswordEncoder() {
                    @Override
                    public String encode(CharSequence raw) {
                        return encoder.encode(raw);
                    }

                    @Override
                    public boolean matches(CharSequence raw, String encoded) {
                        checkedAgainst.add(encoded);
                        return encoder.matches(raw, encoded);
                    }
                };
        AdminLogin login = new AdminLogin(
                new AdminProperties("admin", "plain-pass-1", 10, 100, java.time.Duration.ofMinutes(15)), recording);
        var right = login.authenticate(
                org.springframework.security.authentication.UsernamePasswordAuthenticationToken.unauthenticated(
                        "admin", "plain-pass-1"));
        assertThat(right.isAuthenticated()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> login.authenticate(
                        org.springframework.security.authentication.UsernamePasswordAuthenticationToken.unauthenticated(
                                "admin", "plain-pass-2")))
                .hasMessage(AdminLogin.WRONG);
        assertThat(checkedAgainst)
                .hasSize(2)
                .allMatch(h -> h.startsWith("{bcrypt}$2"))
                .noneMatch(h -> h.contains("plain-pass-1"));
    }

    @Test
    void theHashPasswordCommandMakesAValueTheLoginAccepts() {
        String hash = HashPasswordCommand.hash("correct horse");
        assertThat(hash).startsWith("{bcrypt}$2a$12$");
        assertThat(encoder.matches("correct horse", hash)).isTrue();
        assertThat(encoder.matches("correct horsE", hash)).isFalse();
    }
}
