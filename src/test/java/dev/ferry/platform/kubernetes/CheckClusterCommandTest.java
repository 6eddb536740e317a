package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.Ports;

/**
 * {@code java -jar ferry.jar check-cluster} against the API double that enforces deploy/'s Role and admission, and a
 * real registry: every check passes for a cluster set up like deploy/, and each thing an operator got wrong is a FAIL
 * line saying what to fix.
 */
class CheckClusterCommandTest {

    private static final String USER = "pusher";
    private static final String PASSWORD = "push-password-1";

    private KubeApiDouble double_;
    private LocalRegistry registry;
    private Path pushConfig;

    @AfterEach
    void stop() throws Exception {
        if (double_ != null) {
            double_.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (pushConfig != null) {
            Files.deleteIfExists(pushConfig);
        }
    }

    private record Run(int exit, String out, String err) {}

    private Run checkCluster(String registryPrefix, String... more) {
        List<String> args = new ArrayList<>(List.of(
                CheckClusterCommand.NAME,
                "--ferry.kubernetes.api-url=" + double_.url(),
                "--ferry.kubernetes.namespace=" + KubeApiDouble.NAMESPACE,
                "--ferry.registry.prefix=" + registryPrefix,
                "--ferry.registry.insecure=true"));
        args.addAll(List.of(more));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = CheckClusterCommand.run(
                args.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                List.of(double_.watchBridge()));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path dockerConfig(String host, String user, String password) throws Exception {
        pushConfig = Files.createTempFile("ferry-push", ".json");
        String auth = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        Files.writeString(pushConfig, "{\"auths\":{\"" + host + "\":{\"auth\":\"" + auth + "\"}}}");
        return pushConfig;
    }

    /**
     * The command against a registry asking for a login (Ferry given it), with the push Secret ferry-registry-push
     * holding {@code pushPassword}.
     */
    private Run checkWithPushSecret(String pushPassword) throws Exception {
        double_ = new KubeApiDouble();
        registry = LocalRegistry.basicAuth(USER, PASSWORD);
        return checkCluster(
                registry.prefix(),
                "--ferry.registry.username=" + USER,
                "--ferry.registry.password=" + PASSWORD,
                "--ferry.kubernetes.build.push-secret=ferry-registry-push",
                "--push-config=" + dockerConfig(registry.host(), USER, pushPassword));
    }

    private static String unreachableRegistry() throws java.io.IOException {
        return "127.0.0.1:" + Ports.free() + "/ferry/";
    }

    @Test
    void everyCheckPassesForAClusterSetUpLikeDeployAndNothingIsCreated() throws Exception {
        Run run = checkWithPushSecret(PASSWORD);

        int checks = KubePermissions.accesses().size() + 3 + 2;
        assertThat(run.out())
                .as(run.err())
                .contains("All " + checks + " checks passed.")
                .doesNotContain("FAIL");
        assertThat(run.exit()).isZero();
        assertThat(run.out())
                .contains(
                        "PASS  may delete configmaps in namespace ferry-test",
                        "PASS  may get pods/log in namespace ferry-test",
                        "PASS  may update leases.coordination.k8s.io in namespace ferry-test",
                        "PASS  the API server accepts a session Pod (dry run)",
                        "PASS  the API server accepts a build Job (dry run)",
                        "PASS  the API server accepts the build Job's Pod (dry run)",
                        "PASS  the registry accepts pushes with the push credentials (Secret ferry-registry-push)");
        assertThat(run.out() + run.err()).as("no password in the output").doesNotContain(PASSWORD);
        assertThat(double_.rules.dryRuns).hasSize(3);
        assertThat(double_.rules.refused).isEmpty();
        assertThat(double_.fabric8()
                        .pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .list()
                        .getItems())
                .as("dry runs store nothing")
                .isEmpty();
        assertThat(double_.fabric8()
                        .batch()
                        .v1()
                        .jobs()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .list()
                        .getItems())
                .isEmpty();
    }

    @Test
    void aVerbTheRoleLacksIsAFailSayingWhatToAddAndWhy() throws Exception {
        double_ = new KubeApiDouble(ApiServerRules.deployedRoleWithout("configmaps", "delete"));

        Run run = checkCluster(unreachableRegistry());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out())
                .contains("FAIL  may delete configmaps in namespace ferry-test\n"
                        + "      The service account Ferry runs as may not delete configmaps in namespace ferry-test; Ferry needs it "
                        + "to keep workshops (one ConfigMap each) and remove those that ended long ago. Add \"delete\" to the rule "
                        + "for configmaps in Ferry's Role (deploy/base/role.yaml) and apply it.");
        assertThat(run.out())
                .contains(
                        "PASS  may create configmaps in namespace ferry-test",
                        "PASS  may create pods in namespace ferry-test",
                        "PASS  the API server accepts a session Pod (dry run)");
        assertThat(run.out().lines().filter(l -> l.startsWith("FAIL  may "))).hasSize(1);
    }

    @Test
    void aPodThePolicyRefusesIsAFailQuotingThePolicyAndSayingWhereToLook() throws Exception {
        double_ = new KubeApiDouble();
        double_.rules.denyByWebhook(
                "pods.policy.example.org", "/pods", "containers must set resources.limits.ephemeral-storage");

        Run run = checkCluster(unreachableRegistry());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out())
                .contains(
                        "FAIL  the API server accepts a session Pod (dry run)\n"
                                + "      The API server refused the session Pod Ferry would create: the Kubernetes API answered 403: admission "
                                + "webhook \"pods.policy.example.org\" denied the request: containers must set "
                                + "resources.limits.ephemeral-storage. A policy of the cluster (the webhook named above) refuses it: change "
                                + "the policy, or the setting of Ferry that produces what it refuses. (java -jar ferry.jar manifests prints it.)");
        assertThat(run.out())
                .contains(
                        "FAIL  the API server accepts the build Job's Pod (dry run)",
                        "PASS  the API server accepts a build Job (dry run)");
        assertThat(run.out()).doesNotContain("FAIL  may ");
    }

    @Test
    void pushCredentialsTheRegistryRefusesAreAFailNamingTheSecret() throws Exception {
        Run run = checkWithPushSecret("wrong-password");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out())
                .contains("PASS  the registry answers")
                .contains("FAIL  the registry accepts pushes with the push credentials (Secret ferry-registry-push)\n"
                        + "      The registry at " + registry.host() + " does not let user 'pusher' push to ferry/"
                        + dev.ferry.build.ImageKey.of(SampleLaunch.repo()).slug()
                        + " (HTTP 401): check the credentials in "
                        + "the Secret ferry-registry-push, and that the account may push to that repository.");
        assertThat(run.out()).doesNotContain("wrong-password");
    }

    @Test
    void withoutThePushConfigThePushCheckSaysHowToRunIt() throws Exception {
        double_ = new KubeApiDouble();
        registry = LocalRegistry.anonymous();

        Run run = checkCluster(registry.prefix(), "--ferry.kubernetes.build.push-secret=ferry-registry-push");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out())
                .contains("PASS  the registry answers")
                .contains("FAIL  the registry accepts pushes with the push credentials (Secret ferry-registry-push)\n"
                        + "      Not checked: Ferry's own account may not read Secrets")
                .contains("--push-config=");
    }

    /** deploy/check mounts the push Secret optionally: without it and without push-secret, builds push anonymously. */
    @Test
    void withoutAPushSecretTheAnonymousPushIsChecked() throws Exception {
        double_ = new KubeApiDouble();
        registry = LocalRegistry.anonymous();

        Run run = checkCluster(registry.prefix(), "--push-config=/nonexistent/config.json");

        assertThat(run.out())
                .as(run.err())
                .contains("PASS  the registry accepts pushes with the push credentials\n")
                .contains("checks passed.");
        assertThat(run.exit()).isZero();
    }

    @Test
    void anApiServerThatDoesNotAnswerIsOneFailSayingWhereFerryLooked() throws Exception {
        double_ = new KubeApiDouble();
        double_.down();

        Run run = checkCluster(unreachableRegistry());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out())
                .contains(
                        "FAIL  the Kubernetes API server answers\n      The Kubernetes API server could not be reached")
                .contains("ferry.kubernetes.kubeconfig")
                .contains("3 of 3 checks failed")
                .as("the registry is still asked")
                .contains("FAIL  the registry answers");
        assertThat(run.out()).doesNotContain("may ").doesNotContain("dry run");
    }
}
