package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Job;

import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.launch.SessionSpec;
import dev.ferry.repo.GitRepoProvider;
import dev.ferry.repo.RepoProperties;
import dev.ferry.repo.ResolvedRepo;

/** The build Job as Ferry creates it: its name, its steps, and that credentials stay out of arguments and annotations. */
class BuildJobsTest {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    static RepoProperties repoProperties() {
        return new RepoProperties(List.of("https"), false, Duration.ofSeconds(30), org.springframework.util.unit.DataSize.ofMegabytes(5),
                Duration.ofMinutes(3), 5000, "https://github.com", "https://gitlab.com",
                "https://gist.github.com", List.of(), List.of(), List.of(), Duration.ofSeconds(60),
                org.springframework.util.unit.DataSize.ofMegabytes(300), 2000);
    }

    static KubernetesProperties.Build build(String pushSecret) {
        return build(pushSecret, List.of());
    }

    static KubernetesProperties.Build build(String pushSecret, List<String> pullSecrets) {
        return new KubernetesProperties.Build("ghcr.io/ferry-dev/ferry:1", "moby/buildkit:rootless", "IfNotPresent",
                Duration.ofMinutes(2), List.of(), List.of(),
                pushSecret, "500m", "2", "1Gi", "4Gi", Duration.ofMinutes(10), Map.of("pool", "builds"),
                List.of(new KubernetesProperties.Toleration("dedicated", "Equal", "builds", "NoSchedule", null)), pullSecrets);
    }

    static ResolvedRepo repo(String url) {
        String spec = java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8) + "/main";
        return new ResolvedRepo(new GitRepoProvider().parse(spec), COMMIT, spec, "refs/heads/main");
    }

    @Test
    void jobNamesAreDeterministicDnsSafeAndDistinctPerCommit() {
        ImageKey key = new ImageKey("https://example.org/" + "a-very-long-organisation-name/".repeat(4) + "repo.git", COMMIT);
        String name = Labels.jobName(key.id(), key.slug());
        assertThat(name).isEqualTo(Labels.jobName(key.id(), key.slug()));
        assertThat(name).hasSizeLessThanOrEqualTo(52).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").startsWith("ferry-build-");
        ImageKey other = new ImageKey(key.repoUrl(), COMMIT.replace('0', '1'));
        assertThat(Labels.jobName(other.id(), other.slug())).isNotEqualTo(name);
    }

    @Test
    void thePrepareStepOfARecordDownloadsAndUnpacksItsFilesThroughTheGuard() throws Exception {
        try (dev.ferry.testing.ZenodoStandIn zenodo = new dev.ferry.testing.ZenodoStandIn()) {
            java.util.Map<String, byte[]> files = new java.util.LinkedHashMap<>();
            files.put("tides-1.0.zip", dev.ferry.testing.ZenodoStandIn.zip("tides-1.0/requirements.txt", "numpy\n",
                    "tides-1.0/notebooks/intro.ipynb", "{}"));
            zenodo.add(new dev.ferry.testing.ZenodoStandIn.Record(801, 800, "Tides", List.of("Doe, Jane"), "software", "open",
                    files));
            // the portal resolves the DOI; the Job carries the files, and its prepare step fetches them
            dev.ferry.repo.ZenodoRepoProvider provider = new dev.ferry.repo.ZenodoRepoProvider(zenodo.resolver(),
                    List.of(zenodo.base()));
            dev.ferry.repo.UrlGuard guard = new dev.ferry.repo.UrlGuard(List.of("http"), true,
                    host -> new java.net.InetAddress[] {java.net.InetAddress.getLoopbackAddress()});
            dev.ferry.repo.ArchiveFetcher fetcher = new dev.ferry.repo.ArchiveFetcher(guard, Duration.ofSeconds(5), 1 << 20,
                    Duration.ofSeconds(30));
            dev.ferry.repo.RepoProviders providers = new dev.ferry.repo.RepoProviders(List.of(provider));
            ResolvedRepo repo = new dev.ferry.repo.RefResolver(null, fetcher, providers, Duration.ZERO)
                    .resolve(providers.parse("zenodo", "10.5281/zenodo.800"));
            RepoProperties local = new RepoProperties(List.of("http"), true, Duration.ofSeconds(30),
                    org.springframework.util.unit.DataSize.ofMegabytes(5), Duration.ofMinutes(3), 5000, "https://github.com",
                    "https://gitlab.com", "https://gist.github.com", List.of(), List.of(), List.of(), Duration.ofSeconds(60),
                    org.springframework.util.unit.DataSize.ofMegabytes(300), 2000);
            V1Container prepare = new BuildJobs(build(""), new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                    local).job("ferry-build-x", repo, ImageKey.of(repo), 3600).getSpec().getTemplate().getSpec()
                    .getInitContainers().get(0);
            assertThat(prepare.getArgs()).containsExactly("prepare", "--commit", repo.commit(), "--out", "/workspace");
            assertThat(repo.commit()).matches("[0-9a-f]{40}");
            Map<String, String> env = new java.util.HashMap<>();
            prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
            assertThat(env).containsKey("FERRY_ARCHIVE_FILES").containsEntry("FERRY_REPO_URL", zenodo.base() + "/records/801");

            java.nio.file.Path workspace = dev.ferry.testing.TempDirs.deleteOnExit(java.nio.file.Files.createTempDirectory("ws"));
            List<String> args = new java.util.ArrayList<>(prepare.getArgs());
            args.set(args.size() - 1, workspace.toString());
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            int code = dev.ferry.buildpack.BuildpackCommands.run(args.toArray(String[]::new), new java.io.PrintStream(out),
                    new java.io.PrintStream(out), env);

            assertThat(code).as(out.toString()).isZero();
            assertThat(java.nio.file.Files.readString(workspace.resolve("requirements.txt"))).isEqualTo("numpy\n");
            assertThat(workspace.resolve("notebooks/intro.ipynb")).exists();
            assertThat(workspace.resolve(".ferry/Dockerfile")).exists();
            assertThat(workspace.resolve(".ferry-fetching")).doesNotExist();
            assertThat(zenodo.downloads(801, "tides-1.0.zip")).isEqualTo(1);
        }
    }

    @Test
    void thePrepareStepFetchesUnderTheRepositoryLimits() {
        BuildJobs jobs = new BuildJobs(build("push-creds"), new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                repoProperties());
        ResolvedRepo repo = repo("https://example.org/org/repo.git");
        var prepare = jobs.job("ferry-build-x", repo, ImageKey.of(repo), 3600).getSpec().getTemplate().getSpec()
                .getInitContainers().get(0);
        var env = new java.util.HashMap<String, String>();
        prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        assertThat(env).containsEntry("FERRY_REPO_MAX_FETCH_BYTES", String.valueOf(5L * 1024 * 1024))
                .containsEntry("FERRY_REPO_MAX_FETCH_SECONDS", "180")
                .containsEntry("FERRY_REPO_MAX_FETCH_OBJECTS", "5000").containsEntry("FERRY_REPO_GIT_TIMEOUT_SECONDS", "30")
                .containsEntry("FERRY_REPO_MAX_CHECKOUT_BYTES", String.valueOf(300L * 1024 * 1024))
                .containsEntry("FERRY_REPO_MAX_CHECKOUT_FILES", "2000");
    }

    @Test
    void theJobPreparesThenBuildsAndPushesWithTheConfiguredLimits() {
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        BuildJobs jobs = new BuildJobs(build("push-creds"), registry, repoProperties());
        ResolvedRepo repo = repo("https://user:s3cret@example.org/org/repo.git");
        ImageKey key = ImageKey.of(repo);

        V1Job job = jobs.job("ferry-build-x", repo, key, 3600);

        assertThat(job.getSpec().getBackoffLimit()).isZero();
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(3600L);
        assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(600);
        var pod = job.getSpec().getTemplate().getSpec();
        assertThat(pod.getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        assertThat(pod.getNodeSelector()).containsEntry("pool", "builds");
        assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
                .containsEntry("app.kubernetes.io/managed-by", "ferry").containsEntry("app.kubernetes.io/component", "build");

        V1Container prepare = pod.getInitContainers().get(0);
        assertThat(prepare.getImage()).isEqualTo("ghcr.io/ferry-dev/ferry:1");
        assertThat(prepare.getArgs()).containsExactly("prepare", "--commit", COMMIT, "--ref", "refs/heads/main", "--out", "/workspace");
        assertThat(prepare.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(prepare.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(prepare.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(prepare.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();

        V1Container builder = pod.getContainers().get(0);
        String image = "registry.example.org/ferry/" + key.slug() + ":" + COMMIT;
        assertThat(builder.getCommand()).containsExactly("buildctl-daemonless.sh");
        assertThat(builder.getArgs()).contains("type=image,name=" + image + ",push=true,registry.insecure=false");
        assertThat(builder.getResources().getLimits().get("memory").toSuffixedString()).isEqualTo("4Gi");
        assertThat(builder.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
        assertThat(builder.getSecurityContext().getPrivileged()).isNull();
        assertThat(builder.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/home/user/.docker"));
        assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getSecret() == null ? null : v.getSecret().getSecretName())
                .isEqualTo("push-creds"));

        // the clone URL's credentials: only in the prepare step's environment
        String everythingButEnv = io.kubernetes.client.util.Yaml.dump(job.getMetadata()) + prepare.getArgs() + builder.getArgs()
                + io.kubernetes.client.util.Yaml.dump(job.getSpec().getTemplate().getMetadata());
        assertThat(everythingButEnv).doesNotContain("s3cret");
        assertThat(prepare.getEnv()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("FERRY_REPO_URL"));
    }

    /**
     * kubernetes-client/java#3076: the model starts {@code overhead} as an empty map, which the client sends as
     * {@code "overhead":{}} and the RuntimeClass admission plugin of Kubernetes 1.30 and older refuses (403). Serialised
     * by the client's own JSON, as the create request is.
     */
    @Test
    void theSessionPodAndTheBuildJobAreSentWithoutOverhead() {
        ResolvedRepo repo = repo("https://example.org/org/repo.git");
        ImageKey key = ImageKey.of(repo);
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry/", "", false, "", "");
        SessionSpec spec = new SessionSpec("abcdefghijklmnopqrstuvwxyz234567", "t".repeat(43), repo,
                new Environment(key, registry.image(key.slug(), key.commit())), Map.of(), List.of());
        var pod = new SessionPods(new KubernetesProperties.Session("IfNotPresent", 1000, "100m", "1", "512Mi", "1Gi",
                Map.of(), List.of(), List.of(), java.time.Duration.ofMinutes(10))).pod(spec, java.time.Instant.now());
        var job = new BuildJobs(build(""), registry, repoProperties()).job("ferry-build-x", repo, key, 3600);
        var json = new io.kubernetes.client.openapi.ApiClient().getJSON();

        String podJson = json.serialize(pod);
        String jobJson = json.serialize(job);

        assertThat(podJson).contains("\"containers\"").doesNotContain("\"overhead\"");
        assertThat(jobJson).contains("\"initContainers\"").doesNotContain("\"overhead\"");
    }

    @Test
    void theJobPullsItsImagesWithTheConfiguredPullSecretsAndNamesNoneWhenThereAreNone() {
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        ResolvedRepo repo = repo("https://example.org/org/repo.git");

        V1Job job = new BuildJobs(build("push-creds", List.of("mirror-creds", "ghcr-creds")), registry, repoProperties())
                .job("ferry-build-x", repo, ImageKey.of(repo), 3600);
        V1Job plain = new BuildJobs(build("push-creds"), registry, repoProperties()).job("ferry-build-x", repo, ImageKey.of(repo), 3600);

        // as sent to the API server: the client's own serialisation
        assertThat(io.kubernetes.client.openapi.JSON.serialize(job)).contains("\"imagePullSecrets\":[{\"name\":\"mirror-creds\"},{\"name\":\"ghcr-creds\"}]");
        assertThat(io.kubernetes.client.openapi.JSON.serialize(plain)).doesNotContain("mirror-creds");
    }

    @Test
    void thePrepareImageDefaultsToThePortalsOwnVersionAndBothStepsPullOnlyWhenMissing() {
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        KubernetesProperties.Build unset = new KubernetesProperties.Build("", "moby/buildkit:rootless", "IfNotPresent",
                Duration.ofMinutes(2), List.of(), List.of(), "", "500m", "2", "1Gi", "4Gi", Duration.ofMinutes(10), Map.of(), List.of(), List.of());
        ResolvedRepo repo = repo("https://example.org/org/repo.git");

        var pod = new BuildJobs(unset, registry, repoProperties(), "1.4.2").job("ferry-build-x", repo, ImageKey.of(repo), 3600)
                .getSpec().getTemplate().getSpec();

        assertThat(pod.getInitContainers().get(0).getImage()).isEqualTo("ghcr.io/ferry-dev/ferry:1.4.2");
        assertThat(pod.getInitContainers().get(0).getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(pod.getContainers().get(0).getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(new BuildJobs(build(""), registry, repoProperties(), "1.4.2").prepareImage())
                .as("an operator's setting wins").isEqualTo("ghcr.io/ferry-dev/ferry:1");
    }

    @Test
    void informerRetriesBackOffExponentiallyWithJitterUpToTheCap() {
        Duration max = Duration.ofSeconds(30);
        assertThat(PacedListerWatcher.delay(1, max, 0.5)).isEqualTo(Duration.ofSeconds(1));
        assertThat(PacedListerWatcher.delay(2, max, 0.5)).isEqualTo(Duration.ofSeconds(2));
        assertThat(PacedListerWatcher.delay(4, max, 0.5)).isEqualTo(Duration.ofSeconds(8));
        assertThat(PacedListerWatcher.delay(9, max, 0.5)).isEqualTo(max);
        assertThat(PacedListerWatcher.delay(100, max, 0.0)).isEqualTo(Duration.ofSeconds(24));
        assertThat(PacedListerWatcher.delay(100, max, 1.0)).isEqualTo(Duration.ofSeconds(36));
    }
}
