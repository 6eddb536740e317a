package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link RegistryClient} against a real registry (distribution 2.8.2) that anyone may read. */
class RegistryClientAnonymousTest {

    private static LocalRegistry registry;
    private static RegistryClient client;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = LocalRegistry.anonymous();
        registry.push("built");
        client = new RegistryClient(registry.properties("", ""));
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void aPushedTagExists() {
        assertThat(client.exists(LocalRegistry.DEMO_REPOSITORY, "built")).isTrue();
    }

    @Test
    void anUnknownTagDoesNotExist() {
        assertThat(client.exists(LocalRegistry.DEMO_REPOSITORY, "never-built")).isFalse();
    }

    @Test
    void anUnknownRepositoryDoesNotExist() {
        assertThat(client.exists("ferry/no-such-repository", "built")).isFalse();
    }

    @Test
    void theRepositoryOfThePropertiesNamesWhatWasPushed() {
        RegistryProperties props = registry.properties("", "");
        assertThat(client.exists(props.repository("demo"), "built")).isTrue();
    }
}
