package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link RegistryClient} against a real registry (distribution 2.8.2) with htpasswd Basic authentication. */
class RegistryClientBasicAuthTest {

    private static final String USER = "ferry";
    private static final String PASSWORD = "s3cret-Pa55word";
    private static final String WRONG_PASSWORD = "not-the-Pa55word";

    private static LocalRegistry registry;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = LocalRegistry.basicAuth(USER, PASSWORD);
        registry.push("built");
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void withTheRightCredentialsAPushedTagExistsAndOthersDoNot() {
        LocalRegistry.assertSeesOnlyWhatWasPushed(new RegistryClient(registry.properties(USER, PASSWORD)));
    }

    @Test
    void withoutCredentialsTheErrorSaysWhichSettingsToSet() {
        RegistryClient client = new RegistryClient(registry.properties("", ""));
        registry.assertRefuses(client)
                .hasMessageContaining("needs credentials")
                .hasMessageContaining("ferry.registry.username")
                .hasMessageContaining("ferry.registry.password");
    }

    @Test
    void aWrongPasswordIsRefusedWithoutShowingIt() {
        RegistryClient client = new RegistryClient(registry.properties(USER, WRONG_PASSWORD));
        registry.assertRefuses(client)
                .hasMessageContaining("refused the credentials")
                .hasMessageContaining(USER)
                .message()
                .doesNotContain(WRONG_PASSWORD)
                .doesNotContain(PASSWORD);
    }

    @Test
    void theClientNeverShowsThePassword() {
        RegistryProperties props = registry.properties(USER, PASSWORD);
        assertThat(new RegistryClient(props).toString())
                .doesNotContain(PASSWORD)
                .contains(USER);
        assertThat(props.toString()).doesNotContain(PASSWORD);
    }
}
