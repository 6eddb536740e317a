package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Which X-Forwarded-Proto makes a trusted proxy's request https: only the nearest proxy's value counts. */
class TrustedHttpsValveTest {

    @Test
    void onlyTheNearestProxysValueCounts() {
        assertThat(TrustedHttpsValve.nearestSaysHttps(List.of("https"))).isTrue();
        assertThat(TrustedHttpsValve.nearestSaysHttps(List.of("http, HTTPS "))).isTrue();
        assertThat(TrustedHttpsValve.nearestSaysHttps(List.of("https, http")))
                .as("a visitor's own claim, then the proxy's")
                .isFalse();
        assertThat(TrustedHttpsValve.nearestSaysHttps(List.of("https", "http"))).isFalse();
        assertThat(TrustedHttpsValve.nearestSaysHttps(List.of())).isFalse();
    }
}
