package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1Pod;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code java -jar ferry.jar manifests}: the objects Ferry would send, as the client serialises them, with the settings given. */
class ManifestsCommandTest {

    private record Run(int exit, String out, String err) {}

    private static Run manifests(String... settings) {
        List<String> args = new ArrayList<>(List.of(ManifestsCommand.NAME));
        args.addAll(List.of(settings));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = ManifestsCommand.run(
                args.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printsTheSessionPodAndTheBuildJobAsOneListWithTheGivenSettings() {
        Run run = manifests(
                "--ferry.registry.prefix=registry.example.org/ferry/",
                "--ferry.kubernetes.session.image-pull-secrets=session-pull",
                "--ferry.kubernetes.session.memory-limit=3Gi",
                "--ferry.kubernetes.build.image-pull-secrets=build-pull",
                "--ferry.kubernetes.build.push-secret=registry-push",
                "--ferry.kubernetes.build.image-pull-policy=Always");

        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        JsonNode list = JsonMapper.builder().build().readTree(run.out());
        assertThat(list.path("kind").asString()).isEqualTo("List");
        assertThat(list.path("items")).hasSize(2);
        assertThat(run.out())
                .as("client-java's empty overhead map must not be sent (#19.1)")
                .doesNotContain("overhead");

        // each item is on its own line as the client serialises it (reading it back would bring back client-java's
        // empty maps, so the text itself is what is asserted on)
        String[] lines = run.out().split("\n");
        assertThat(lines).hasSize(4);
        V1Pod pod = JSON.deserialize(lines[1].replaceAll(",$", ""), V1Pod.class);
        V1Job job = JSON.deserialize(lines[2], V1Job.class);
        assertThat(JsonMapper.builder().build().readTree(lines[1].replaceAll(",$", "")))
                .isEqualTo(list.path("items").get(0));

        assertThat(pod.getKind()).isEqualTo("Pod");
        assertThat(pod.getSpec().getImagePullSecrets()).extracting("name").containsExactly("session-pull");
        V1Container notebook = pod.getSpec().getContainers().get(0);
        assertThat(notebook.getImage())
                .startsWith("registry.example.org/ferry/")
                .endsWith(":" + SampleLaunch.COMMIT);
        assertThat(notebook.getResources().getLimits().get("memory").toSuffixedString())
                .isEqualTo("3Gi");
        assertThat(notebook.getResources().getLimits()).containsKeys("cpu", "memory", "ephemeral-storage");
        assertThat(notebook.getResources().getRequests()).containsKey("ephemeral-storage");
        tools.jackson.databind.JsonNode printed =
                tools.jackson.databind.json.JsonMapper.builder().build().readTree(lines[1].replaceAll(",$", ""));
        assertThat(PodSecurity.check("restricted", printed.get("metadata"), printed.get("spec")))
                .as("the printed session Pod meets Pod Security restricted")
                .isEmpty();

        assertThat(job.getKind()).isEqualTo("Job");
        var template = job.getSpec().getTemplate().getSpec();
        assertThat(template.getImagePullSecrets()).extracting("name").containsExactly("build-pull");
        assertThat(template.getVolumes())
                .filteredOn(v -> v.getSecret() != null)
                .extracting(v -> v.getSecret().getSecretName())
                .containsExactly("registry-push");
        V1Container prepare = template.getInitContainers().get(0);
        assertThat(prepare.getName()).isEqualTo(BuildJobs.PREPARE);
        assertThat(prepare.getImagePullPolicy()).isEqualTo("Always");
        assertThat(prepare.getImage())
                .as("the prepare image is pinned to this portal's version, never :latest")
                .isEqualTo("ghcr.io/ferry-dev/ferry:" + CommandSettings.portalVersion())
                .doesNotEndWith(":latest");
        assertThat(prepare.getResources().getLimits()).containsKeys("cpu", "memory");
        assertThat(template.getContainers().get(0).getResources().getLimits())
                .containsKeys("cpu", "memory", "ephemeral-storage");
        assertThat(template.getVolumes())
                .filteredOn(v -> v.getEmptyDir() != null)
                .isNotEmpty()
                .allSatisfy(v -> assertThat(v.getEmptyDir().getSizeLimit())
                        .as(v.getName())
                        .isNotNull());
    }

    @Test
    void theDefaultsPullThePrepareImageOnlyWhenTheNodeLacksIt() {
        Run run = manifests("--ferry.registry.prefix=registry.example.org/ferry/");

        assertThat(run.exit()).as(run.err()).isZero();
        V1Job job = JSON.deserialize(run.out().split("\n")[2], V1Job.class);
        assertThat(job.getSpec()
                        .getTemplate()
                        .getSpec()
                        .getInitContainers()
                        .get(0)
                        .getImagePullPolicy())
                .isEqualTo("IfNotPresent");
        assertThat(job.getSpec().getActiveDeadlineSeconds())
                .as("ferry.build.timeout's default, 1 h")
                .isEqualTo(3600L);
    }

    /** The commands run in-process here: reading the settings must not set up this JVM's logging (a portal's, later). */
    @Test
    void aRunLeavesTheLoggingOfItsJvmAsItWas() {
        var root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        var before = root.getLevel();

        assertThat(manifests("--ferry.registry.prefix=registry.example.org/ferry/")
                        .exit())
                .isZero();

        assertThat(root.getLevel()).isEqualTo(before);
        assertThat(org.slf4j.LoggerFactory.getLogger(ClusterCheckAtStart.class).isWarnEnabled())
                .isTrue();
    }

    @Test
    void withoutARegistryPrefixItSaysWhichSettingIsMissing() {
        Run run = manifests();

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("ferry.registry.prefix is not set").doesNotContain("Exception");
    }

    @Test
    void aSettingThatCannotBeReadIsNamed() {
        Run run = manifests("--ferry.registry.prefix=registry.example.org/ferry/", "--ferry.build.timeout=soon");

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("ferry.build").contains("soon");
    }
}
