package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1Container;

import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.buildpack.RenderedImageBuildTest;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.SessionSpec;
import dev.ferry.testing.ContainerEngine;

/**
 * A rendered image (not a repository's own Dockerfile) started as the session Pod's container (#20): the entrypoint
 * Ferry renders activates the environment and runs the repository's {@code start} before the server, under the Pod's
 * arguments, environment, user and capabilities — Jupyter answers at the session's base URL with the token. The image
 * is built as in {@link RenderedImageBuildTest} (local base and environment images through {@code ferry.buildpack.*}).
 */
class RenderedSessionPodTest {

    @Test
    void aRenderedImageServesTheSessionWithStartRunAndTheEnvironmentActivated() throws Exception {
        ContainerEngine engine = RenderedImageBuildTest.localImages();
        Path context = RenderedImageBuildTest.prepared(
                "rendered-pod",
                Map.of(
                        "binder/requirements.txt",
                        "notebook\n",
                        "binder/start",
                        RenderedImageBuildTest.START,
                        "analysis.ipynb",
                        "{\"cells\": [], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}\n"));
        ResolvedRepo repo = BuildJobsTest.repo("https://example.org/org/rendered.git");
        ImageKey key = ImageKey.of(repo);
        String image = engine.build(
                context, context.resolve(".ferry/Dockerfile"), "localhost/ferry-test/rendered-pod:1", Map.of());

        SessionSpec spec = new SessionSpec(
                SessionContainerTest.SESSION,
                SessionContainerTest.TOKEN,
                repo,
                new Environment(key, image),
                Map.of("BINDER_REPO_URL", repo.repoUrl()),
                List.of());
        SessionContainerTest.PodRun run = SessionContainerTest.PodRun.start(engine, spec);
        V1Container notebook = run.notebook();
        assertThat(notebook.getCommand()).as("the image's entrypoint stays").isNullOrEmpty();
        ContainerEngine.Container session = run.session();
        try {
            String base = spec.baseUrl();
            assertThat(run.status(
                            base + "api/contents/analysis.ipynb?token=" + SessionContainerTest.TOKEN,
                            Duration.ofSeconds(90)))
                    .as(session.logs())
                    .isEqualTo(200);
            assertThat(run.status(base + "api/contents/analysis.ipynb", Duration.ofSeconds(5)))
                    .isEqualTo(403);
            String environ = engine.docker("exec", session.id(), "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ")
                    .output();
            assertThat(environ)
                    .contains(
                            "STARTED=yes",
                            "PROJ_DATA=/srv/conda/envs/notebook/share/proj",
                            "JUPYTER_TOKEN=" + SessionContainerTest.TOKEN,
                            "REPO_DIR=/home/jovyan");
            assertThat(engine.docker("exec", session.id(), "cat", "/proc/1/status")
                            .output())
                    .containsPattern(
                            "(?m)^Uid:\\s+" + notebook.getSecurityContext().getRunAsUser() + "\\s");
        } finally {
            session.remove();
        }
    }
}
