package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.testing.Ports;

/**
 * {@code manifests} and {@code check-cluster} as an operator runs them: {@code java -jar target/ferry.jar …} (the jar
 * {@code package} just built), with standard output holding only the command's output and the exit code saying what
 * happened.
 */
class OperatorCommandsIT {

    private record Run(int exit, String out, String err) {}

    private static Run jar(String... args) throws Exception {
        Path jar = Path.of("target", "ferry.jar");
        assertThat(jar).as("the jar built by package, before integration tests").exists();
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("ferry-command", ".out");
        Path err = Files.createTempFile("ferry-command", ".err");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", args) + " did not finish within 120 s");
            }
            return new Run(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void manifestsPrintsOnlyTheListOnStandardOutput() throws Exception {
        Run run = jar(ManifestsCommand.NAME, "--ferry.registry.prefix=registry.example.org/ferry/");

        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode list = JsonMapper.builder().build().readTree(run.out());
        assertThat(list.path("items"))
                .extracting(i -> i.path("kind").asString())
                .containsExactly("Pod", "Job");
        assertThat(run.out()).doesNotContain("overhead");
        JsonNode prepare = list.path("items")
                .get(1)
                .path("spec")
                .path("template")
                .path("spec")
                .path("initContainers")
                .get(0);
        assertThat(prepare.path("image").asString())
                .as("pinned to the jar's own version (its build-info)")
                .isEqualTo("ghcr.io/ferry-dev/ferry:" + CommandSettings.portalVersion())
                .doesNotEndWith(":latest");
        assertThat(prepare.path("imagePullPolicy").asString()).isEqualTo("IfNotPresent");
    }

    @Test
    void checkClusterPrintsTheTableAndExitsOneWhenACheckFails() throws Exception {
        try (KubeApiDouble cluster = new KubeApiDouble()) {
            Run run = jar(
                    CheckClusterCommand.NAME,
                    "--ferry.kubernetes.api-url=" + cluster.url(),
                    "--ferry.kubernetes.namespace=" + KubeApiDouble.NAMESPACE,
                    "--ferry.registry.prefix=127.0.0.1:" + Ports.free() + "/ferry/",
                    "--ferry.registry.insecure=true");

            assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(1);
            assertThat(run.out())
                    .startsWith("Checking namespace ferry-test at " + cluster.url())
                    .contains(
                            "PASS  may create pods in namespace ferry-test",
                            "PASS  the API server accepts a session Pod (dry run)",
                            "FAIL  the registry answers",
                            "Cannot reach the registry at 127.0.0.1:")
                    .endsWith("checks failed: fix what each FAIL says, then run check-cluster again.\n");
            assertThat(run.out().lines())
                    .allMatch(l -> l.startsWith("Checking ")
                            || l.startsWith("PASS  ")
                            || l.startsWith("FAIL  ")
                            || l.startsWith("      ")
                            || l.contains("checks failed"));
            assertThat(cluster.rules.dryRuns).hasSize(3);
        }
    }

    @Test
    void aCommandWhoseSettingIsMissingSaysSoOnStandardErrorWithExitCodeTwo() throws Exception {
        Run run = jar(CheckClusterCommand.NAME);

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("ferry.registry.prefix is not set").doesNotContain("Exception");
    }

    @Test
    void aSettingThatCannotBeReadIsOneSentenceNotSpringsReport() throws Exception {
        Run run = jar(
                ManifestsCommand.NAME,
                "--ferry.registry.prefix=registry.example.org/ferry/",
                "--ferry.build.timeout=soon");

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().strip().lines()).hasSize(1);
        assertThat(run.err())
                .startsWith("Ferry could not read its settings")
                .contains("ferry.build")
                .contains("soon")
                .doesNotContain("APPLICATION FAILED TO START");
    }
}
