package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

/**
 * {@link RegistryClient#checkPush}, check-cluster's question "may these credentials push?", against a real registry
 * (distribution 2.8.2): answered by starting a blob upload and cancelling it, so that nothing is written.
 */
class RegistryClientPushCheckTest {

    private static final String USER = "builder";
    private static final String PASSWORD = "push-Pa55word";
    private static final String SECRET = "the credentials in the Secret ferry-registry-push";

    @Test
    void aBearerTokenRegistryLetsTheAccountPushAndNothingIsLeftInIt() throws Exception {
        try (RegistryTokenService tokens = new RegistryTokenService(USER, PASSWORD, 300);
                LocalRegistry registry = LocalRegistry.tokenAuth(tokens, USER + ":" + PASSWORD)) {
            RegistryClient client = new RegistryClient(registry.properties(USER, PASSWORD), SECRET);

            client.checkPush("ferry/check");

            assertThat(new RegistryClient(registry.properties(USER, PASSWORD)).exists("ferry/check", "latest"))
                    .isFalse();
        }
    }

    @Test
    void credentialsTheTokenServiceRefusesAreSaidWithTheSecretToCheck() throws Exception {
        try (RegistryTokenService tokens = new RegistryTokenService(USER, PASSWORD, 300);
                LocalRegistry registry = LocalRegistry.tokenAuth(tokens, USER + ":" + PASSWORD)) {
            RegistryClient client = new RegistryClient(registry.properties(USER, "wrong"), SECRET);

            assertThatThrownBy(() -> client.checkPush("ferry/check"))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("refused the credentials of user 'builder'")
                    .hasMessageContaining("check " + SECRET)
                    .hasMessageNotContaining("wrong");
        }
    }

    @Test
    void anAnonymousRegistryTakesAnAnonymousPushAndTheUploadIsCancelled() throws Exception {
        try (LocalRegistry registry = LocalRegistry.anonymous()) {
            new RegistryClient(registry.properties("", ""), SECRET).checkPush("ferry/check");

            // the upload was cancelled: the repository was never created
            HttpResponse<String> tags = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(registry.url() + "/v2/ferry/check/tags/list"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(tags.statusCode()).as(tags.body()).isEqualTo(404);
        }
    }

    @Test
    void aBasicAuthRegistryRefusingTheAccountSaysWhatToCheck() throws Exception {
        try (LocalRegistry registry = LocalRegistry.basicAuth(USER, PASSWORD)) {
            RegistryClient client = new RegistryClient(registry.properties("", ""), SECRET);

            assertThatThrownBy(() -> client.checkPush("ferry/check"))
                    .isInstanceOf(RegistryException.class)
                    .hasMessage("The registry at " + registry.host()
                            + " needs credentials to check for images (it asks for " + "Basic authentication): set "
                            + SECRET + ".");
        }
    }
}
