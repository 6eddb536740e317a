package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.MovableClock;

/**
 * {@link RegistryClient} against a real registry (distribution 2.8.2) configured for Bearer tokens
 * ({@code auth.token}): the registry itself challenges, and verifies the RS256 JWTs that {@link RegistryTokenService}
 * signs with a key whose self-signed certificate is the registry's {@code rootcertbundle}. No front or fake stands
 * between the client and the registry. The token service wants an account, like a private registry's.
 */
class RegistryClientBearerTest {

    private static final String USER = "ferry";
    private static final String PASSWORD = "s3cret-Pa55word";
    private static final long TOKEN_LIFETIME_SECONDS = 300;

    private static RegistryTokenService tokens;
    private static LocalRegistry registry;

    @BeforeAll
    static void startRegistry() throws Exception {
        tokens = new RegistryTokenService(USER, PASSWORD, TOKEN_LIFETIME_SECONDS);
        registry = LocalRegistry.tokenAuth(tokens, USER + ":" + PASSWORD);
        registry.push("built");
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (tokens != null) {
            tokens.close();
        }
    }

    @Test
    void withATokenAPushedTagExistsAndOthersDoNot() {
        LocalRegistry.assertSeesOnlyWhatWasPushed(new RegistryClient(registry.properties(USER, PASSWORD)));
    }

    @Test
    void aTokenIsFetchedOnceAndReusedForTheSameRepository() {
        RegistryClient client = new RegistryClient(registry.properties(USER, PASSWORD));
        int before = tokens.requests();
        assertThat(client.exists(LocalRegistry.DEMO_REPOSITORY, "built")).isTrue();
        assertThat(client.exists(LocalRegistry.DEMO_REPOSITORY, "never-built")).isFalse();
        assertThat(tokens.requests() - before).isEqualTo(1);
    }

    @Test
    void anExpiredTokenIsReplaced() {
        MovableClock clock = new MovableClock(Instant.now());
        RegistryClient client = new RegistryClient(
                registry.properties(USER, PASSWORD),
                HttpClient.newBuilder()
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build(),
                clock);
        int before = tokens.requests();
        assertThat(client.exists(LocalRegistry.DEMO_REPOSITORY, "built")).isTrue();
        clock.advance(Duration.ofSeconds(TOKEN_LIFETIME_SECONDS));
        assertThat(client.exists(LocalRegistry.DEMO_REPOSITORY, "built")).isTrue();
        assertThat(tokens.requests() - before).isEqualTo(2);
    }

    @Test
    void withoutCredentialsTheErrorSaysWhichSettingsToSet() {
        RegistryClient client = new RegistryClient(registry.properties("", ""));
        registry.assertRefuses(client)
                .hasMessageContaining("needs credentials")
                .hasMessageContaining("ferry.registry.username");
    }

    @Test
    void aWrongPasswordIsRefusedWithoutShowingIt() {
        RegistryClient client = new RegistryClient(registry.properties(USER, "not-the-Pa55word"));
        registry.assertRefuses(client)
                .hasMessageContaining("refused the credentials")
                .message()
                .doesNotContain("not-the-Pa55word")
                .doesNotContain(PASSWORD);
    }
}
