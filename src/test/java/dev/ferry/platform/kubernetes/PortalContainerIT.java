package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1PodSpec;

import dev.ferry.build.ImageKey;
import dev.ferry.repo.GitRepoProvider;
import dev.ferry.repo.RepoProperties;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.testing.ContainerEngine;
import dev.ferry.testing.TempDirs;
import dev.ferry.testing.TestGitServer;

/**
 * The build Job's {@code prepare} step as a cluster runs it (#19): the portal image built by a real engine from the
 * project's {@code Dockerfile} — its base images, build arguments, pointed at a JRE made from Debian's openjdk-17
 * packages (Docker Hub's eclipse-temurin cannot be pulled here), and its jar the one {@code package} made
 * ({@code JAR=prebuilt}, so that the build needs no Maven inside the image) — then the Job's init container run exactly
 * as {@link BuildJobs} specifies it: args, environment, user and group, read-only root filesystem, dropped
 * capabilities, its {@code /tmp} emptyDir, and the {@code workspace} emptyDir (bound to a host folder to look into).
 * Against a repository on a local git server: the container shares the host's network to reach it on 127.0.0.1, as a
 * build Pod reaches a git host over the Pod network.
 */
class PortalContainerIT {

    @Test
    void thePrepareContainerOfTheBuildJobWritesTheBuildContextAndDockerfile() throws Exception {
        ContainerEngine engine = ContainerEngine.require();
        assertThat(Path.of("target", "ferry.jar"))
                .as("the jar built by package, before integration tests")
                .exists();
        String runtime = engine.javaRuntime();
        String portal = engine.build(
                Path.of("."),
                Path.of("Dockerfile"),
                "localhost/ferry-test/portal:it",
                Map.of("JAR", "prebuilt", "RUNTIME_IMAGE", runtime, "BUILD_IMAGE", runtime));

        try (TestGitServer git = new TestGitServer()) {
            String url = git.createRepo(
                    "container-prepare",
                    Map.of("requirements.txt", "numpy\n", "apt.txt", "curl\n", "postBuild", "#!/bin/sh\necho hi\n"));
            String commit = git.commit(
                    "container-prepare", "main", Map.of("README.md", "# prepared in a container\n"), "second");
            String spec = java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8) + "/main";
            ResolvedRepo repo = new ResolvedRepo(new GitRepoProvider().parse(spec), commit, spec, "refs/heads/main");
            RepoProperties repoSettings = SessionContainerTest.settings(
                    "ferry.repo",
                    RepoProperties.class,
                    Map.of("ferry.repo.allowed-schemes", "http", "ferry.repo.allow-private-addresses", "true"));
            KubernetesProperties kubernetes = SessionContainerTest.settings(
                    "ferry.kubernetes",
                    KubernetesProperties.class,
                    Map.of("ferry.kubernetes.build.prepare-image", portal));
            RegistryProperties registry = SessionContainerTest.settings(
                    "ferry.registry",
                    RegistryProperties.class,
                    Map.of("ferry.registry.prefix", "registry.example.org/ferry/"));
            V1PodSpec pod = new BuildJobs(kubernetes.build(), registry, repoSettings)
                    .job("ferry-build-container", repo, ImageKey.of(repo), 600)
                    .getSpec()
                    .getTemplate()
                    .getSpec();
            V1Container prepare = pod.getInitContainers().get(0);
            assertThat(prepare.getImage()).isEqualTo(portal);
            assertThat(prepare.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();

            Path workspace = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-container-workspace"));
            Files.setPosixFilePermissions(
                    workspace, PosixFilePermissions.fromString("rwxrwxrwx")); // an emptyDir's mode
            ContainerEngine.Container c = engine.run(
                    PodAsContainer.runSpec(pod, prepare, prepare.getImage(), Map.of("workspace", workspace.toString()))
                            .network("host"));
            try {
                int exit = c.await(Duration.ofMinutes(3));
                assertThat(exit).as(c.logs()).isZero();
            } finally {
                c.remove();
            }
            assertThat(workspace.resolve("README.md")).hasContent("# prepared in a container\n");
            assertThat(workspace.resolve("requirements.txt")).hasContent("numpy\n");
            assertThat(Files.readString(workspace.resolve(".ferry/Dockerfile")))
                    .contains("requirements.txt")
                    .contains("postBuild")
                    .contains("'curl'");
        }
    }
}
