package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class AuthChallengeTest {

    @Test
    void readsABearerChallengeAsRegistriesSendIt() {
        List<AuthChallenge> challenges = AuthChallenge.parseAll(List.of("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/python:pull,push\""));
        assertThat(challenges)
                .containsExactly(new AuthChallenge(
                        "Bearer",
                        Map.of(
                                "realm",
                                "https://auth.docker.io/token",
                                "service",
                                "registry.docker.io",
                                "scope",
                                "repository:library/python:pull,push")));
    }

    @Test
    void readsSeveralChallengesInOneHeaderAndAcrossHeaders() {
        List<AuthChallenge> challenges = AuthChallenge.parseAll(
                List.of("Negotiate abc==, Basic realm=\"a \\\"quoted\\\" realm\", charset=UTF-8", "Bearer realm=x"));
        assertThat(challenges).extracting(AuthChallenge::scheme).containsExactly("Negotiate", "Basic", "Bearer");
        assertThat(challenges.get(1).param("REALM")).isEqualTo("a \"quoted\" realm");
        assertThat(challenges.get(1).param("charset")).isEqualTo("UTF-8");
        assertThat(challenges.get(2).is("bearer")).isTrue();
    }

    @Test
    void acceptsAnUnquotedRealmUrl() {
        AuthChallenge challenge = AuthChallenge.parseAll(
                        List.of("Bearer realm=https://auth.example.org/token,service=r"))
                .get(0);
        assertThat(challenge.param("realm")).isEqualTo("https://auth.example.org/token");
        assertThat(challenge.param("service")).isEqualTo("r");
    }
}
