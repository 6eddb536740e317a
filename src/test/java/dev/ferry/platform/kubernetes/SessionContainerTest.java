package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Pod;

import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.buildpack.BuildPlan;
import dev.ferry.buildpack.Buildpack;
import dev.ferry.buildpack.BuildpackProperties;
import dev.ferry.buildpack.Detector;
import dev.ferry.buildpack.DockerfileRenderer;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.SessionSpec;
import dev.ferry.testing.ContainerEngine;
import dev.ferry.testing.TempDirs;

/**
 * Runs what the session Pod would run (#19): a sample repository's image built by a real engine the way the build Job
 * builds it (its plan detected, its Dockerfile rendered by {@link DockerfileRenderer} with the operator's base images
 * pointed at local ones), then started with exactly the container of the Pod {@link SessionPods} makes — command,
 * args, environment, user and group, working directory, root filesystem, capabilities, emptyDir mounts — and reached
 * at its own address, as the portal reaches a Pod's IP: Jupyter answers at the session's base URL with the token, and
 * only with it.
 *
 * <p>Only repositories whose build needs nothing beyond Debian's packages can be built here (no Docker Hub, PyPI or
 * conda-forge): every rendered Python, conda, Pipfile, R and Julia Dockerfile copies micromamba from a registry image
 * and creates its environment from conda-forge, and Nix needs its registry image; those steps cannot run here. The
 * repository kind used is the one that builds from local images: a repository bringing its own {@code Dockerfile}
 * (built as the build Job builds it, from the checkout).
 */
class SessionContainerTest {

    static final String SESSION = "abcdefghijklmnopqrstuvwxyz234567";
    static final String TOKEN = "t0k3n-".repeat(7);

    /** Settings as an operator's configuration binds them (defaults for all not given). */
    static <T> T settings(String prefix, Class<T> type, Map<String, String> given) {
        return new Binder(new MapConfigurationPropertySource(given)).bindOrCreate(prefix, type);
    }

    /** A new checkout holding an empty notebook, {@code analysis.ipynb}. */
    static Path checkoutWithNotebook(String prefix) throws java.io.IOException {
        Path checkout = TempDirs.deleteOnExit(Files.createTempDirectory(prefix));
        Files.writeString(
                checkout.resolve("analysis.ipynb"),
                "{\"cells\": [], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}\n");
        return checkout;
    }

    /**
     * The session container of the Pod {@link SessionPods} makes for a session (default settings), started by the
     * engine as the kubelet starts it.
     */
    record PodRun(V1Container notebook, ContainerEngine.Container session) {

        static PodRun start(ContainerEngine engine, SessionSpec spec) {
            KubernetesProperties kubernetes = settings("ferry.kubernetes", KubernetesProperties.class, Map.of());
            V1Pod pod = new SessionPods(kubernetes.session()).pod(spec, Instant.now());
            V1Container notebook = pod.getSpec().getContainers().get(0);
            return new PodRun(
                    notebook,
                    engine.run(PodAsContainer.runSpec(
                            pod.getSpec(), notebook, spec.environment().imageName())));
        }

        /** The first status the session's server answers for {@code target} within {@code wait}; 0 when none. */
        int status(String target, Duration wait) throws InterruptedException {
            return session.status(SessionPods.PORT, target, wait);
        }
    }

    @Test
    void theSessionContainerOfTheSessionPodServesJupyterAtTheSessionsBaseUrlWithTheToken() throws Exception {
        ContainerEngine engine = ContainerEngine.require();
        Path checkout = checkoutWithNotebook("ferry-session-repo");
        Files.writeString(checkout.resolve("Dockerfile"), """
                FROM %s
                RUN useradd --uid 1000 --user-group --create-home --home-dir /home/jovyan jovyan
                COPY --chown=1000:1000 . /home/jovyan/
                WORKDIR /home/jovyan
                USER 1000
                ENV HOME=/home/jovyan
                """.formatted(engine.notebookBase()));

        BuildPlan plan = new Detector().detect(checkout);
        assertThat(plan.buildpack()).isEqualTo(Buildpack.DOCKER);
        BuildpackProperties buildpack = settings("ferry.buildpack", BuildpackProperties.class, Map.of());
        ResolvedRepo repo = BuildJobsTest.repo("https://example.org/org/own-dockerfile.git");
        assertThat(new DockerfileRenderer(buildpack)
                        .render(plan, new DockerfileRenderer.Source(repo.repoUrl(), repo.commit())))
                .as("a repository's own Dockerfile is built as it is")
                .isNull();
        ImageKey key = ImageKey.of(repo);
        String image = engine.build(
                checkout, "localhost/ferry-test/own-dockerfile:" + key.commit().substring(0, 12), Map.of());

        SessionSpec spec = new SessionSpec(
                SESSION,
                TOKEN,
                repo,
                new Environment(key, image),
                Map.of("BINDER_REQUEST", "v2/git/x", "BINDER_REPO_URL", repo.repoUrl()),
                List.of());
        PodRun run = PodRun.start(engine, spec);
        V1Container notebook = run.notebook();
        assertThat(notebook.getImage()).isEqualTo(image);
        ContainerEngine.Container session = run.session();
        try {
            String base = spec.baseUrl();
            assertThat(run.status(base + "api/status?token=" + TOKEN, Duration.ofSeconds(90)))
                    .as(session.logs())
                    .isEqualTo(200);
            // the readiness probe's request, without a token
            String probe = notebook.getReadinessProbe().getHttpGet().getPath();
            assertThat(run.status(probe, Duration.ofSeconds(5))).isEqualTo(200);
            assertThat(run.status(base + "api/contents/analysis.ipynb?token=" + TOKEN, Duration.ofSeconds(5)))
                    .isEqualTo(200);
            assertThat(run.status(base + "api/contents/analysis.ipynb", Duration.ofSeconds(5)))
                    .as("no token, no files")
                    .isEqualTo(403);
            assertThat(run.status(base + "api/contents/analysis.ipynb?token=wrong", Duration.ofSeconds(5)))
                    .isEqualTo(403);
            assertThat(run.status("/api/status?token=" + TOKEN, Duration.ofSeconds(5)))
                    .as("only under the session's base URL")
                    .isEqualTo(404);
            // the server runs as the Pod says, with the Pod's environment
            String status =
                    engine.docker("exec", session.id(), "cat", "/proc/1/status").output();
            long uid = notebook.getSecurityContext().getRunAsUser();
            assertThat(status).containsPattern("(?m)^Uid:\\s+" + uid + "\\s");
            assertThat(status).containsPattern("(?m)^CapEff:\\s+0+$");
            assertThat(engine.docker("exec", session.id(), "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ")
                            .output())
                    .contains("JUPYTER_TOKEN=" + TOKEN)
                    .contains("BINDER_REQUEST=v2/git/x");
        } finally {
            session.remove();
        }
    }

    /**
     * The one Dockerfile Ferry renders that builds from local images: source-to-image, with the operator's
     * {@code ferry.buildpack.s2i-builder} pointed at a builder made from Debian's Jupyter packages (its
     * {@code /usr/libexec/s2i/assemble} copies the sources, as s2i builders do).
     */
    @Test
    void aRenderedSourceToImageImageRunsAsTheSessionPodRunsIt() throws Exception {
        ContainerEngine engine = ContainerEngine.require();
        Path builderDir = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-s2i-builder"));
        Files.writeString(builderDir.resolve("Dockerfile"), """
                FROM %s
                RUN mkdir -p /usr/libexec/s2i /opt/app-root/src && chown 1001:0 /opt/app-root/src \\
                 && printf '#!/bin/sh\\nset -e\\ncp -Rf /tmp/src/. /opt/app-root/src\\n' > /usr/libexec/s2i/assemble \\
                 && printf '#!/bin/sh\\nexec jupyter notebook --ip=0.0.0.0 --port=8888\\n' > /usr/libexec/s2i/run \\
                 && chmod +x /usr/libexec/s2i/assemble /usr/libexec/s2i/run
                ENV HOME=/opt/app-root/src
                WORKDIR /opt/app-root/src
                USER 1001
                """.formatted(engine.notebookBase()));
        String builder = engine.build(builderDir, "localhost/ferry-test/s2i-notebook:bookworm", Map.of());

        Path checkout = checkoutWithNotebook("ferry-s2i-repo");
        BuildpackProperties buildpack =
                settings("ferry.buildpack", BuildpackProperties.class, Map.of("ferry.buildpack.s2i-builder", builder));
        BuildPlan plan = new Detector(java.util.Optional.of(buildpack.s2iBuilder())).detect(checkout);
        assertThat(plan.buildpack()).isEqualTo(Buildpack.S2I);
        ResolvedRepo repo = BuildJobsTest.repo("https://example.org/org/s2i.git");
        String dockerfile = new DockerfileRenderer(buildpack)
                .render(plan, new DockerfileRenderer.Source(repo.repoUrl(), repo.commit()));
        Path rendered = TempDirs.deleteOnExit(Files.createTempFile("ferry-s2i", ".Dockerfile"));
        Files.writeString(rendered, dockerfile);
        ImageKey key = ImageKey.of(repo);
        String image = engine.build(
                checkout, rendered, "localhost/ferry-test/s2i:" + key.commit().substring(0, 12), Map.of());

        SessionSpec spec = new SessionSpec(SESSION, TOKEN, repo, new Environment(key, image), Map.of(), List.of());
        PodRun run = PodRun.start(engine, spec);
        ContainerEngine.Container session = run.session();
        try {
            String base = "http://" + session.ip() + ":" + SessionPods.PORT + spec.baseUrl();
            assertThat(run.status(spec.baseUrl() + "api/status?token=" + TOKEN, Duration.ofSeconds(90)))
                    .as(session.logs())
                    .isEqualTo(200);
            assertThat(run.status(spec.baseUrl() + "api/contents/analysis.ipynb?token=" + TOKEN, Duration.ofSeconds(5)))
                    .as("the repository's files in the server's folder")
                    .isEqualTo(200);
            HttpResponse<String> saved = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(base + "api/contents/notes.txt?token=" + TOKEN))
                                    .PUT(HttpRequest.BodyPublishers.ofString(
                                            "{\"type\": \"file\", \"format\": \"text\", \"content\": \"kept\"}"))
                                    .header("Content-Type", "application/json")
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(saved.statusCode())
                    .as("the user can save work next to the repository's files: " + saved.body())
                    .isEqualTo(201);
        } finally {
            session.remove();
        }
    }
}
