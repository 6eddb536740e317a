package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1PodSpec;

import dev.ferry.build.ImageKey;
import dev.ferry.repo.GitRepoProvider;
import dev.ferry.repo.RepoProperties;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.SessionSpec;

/** The build Job as Ferry creates it: its name, its steps, and that credentials stay out of arguments and annotations. */
class BuildJobsTest {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    static RepoProperties repoProperties() {
        return repoProperties(List.of("https"), false, org.springframework.util.unit.DataSize.ofMegabytes(5));
    }

    /** The test's repo settings with the schemes, private addresses and fetch size a test needs. */
    static RepoProperties repoProperties(
            List<String> schemes, boolean allowPrivateAddresses, org.springframework.util.unit.DataSize maxFetchSize) {
        return new RepoProperties(
                schemes,
                allowPrivateAddresses,
                Duration.ofSeconds(30),
                maxFetchSize,
                Duration.ofMinutes(3),
                5000,
                "https://github.com",
                "https://gitlab.com",
                "https://gist.github.com",
                List.of(),
                List.of(),
                List.of(),
                Duration.ofSeconds(60),
                org.springframework.util.unit.DataSize.ofMegabytes(300),
                2000);
    }

    static KubernetesProperties.Build build(String pushSecret) {
        return build(pushSecret, List.of());
    }

    static KubernetesProperties.Build build(String pushSecret, List<String> pullSecrets) {
        return build(pushSecret, pullSecrets, true, "");
    }

    /** The test's build settings with the cache export/import and the buildkitd.toml ConfigMap as given. */
    static KubernetesProperties.Build build(
            String pushSecret, List<String> pullSecrets, boolean cache, String buildkitdConfig) {
        return new KubernetesProperties.Build(
                "ghcr.io/ferry-dev/ferry:1",
                "moby/buildkit:rootless",
                "IfNotPresent",
                Duration.ofMinutes(2),
                List.of(),
                List.of(),
                pushSecret,
                "500m",
                "2",
                "1Gi",
                "4Gi",
                Duration.ofMinutes(10),
                Map.of("pool", "builds"),
                List.of(new KubernetesProperties.Toleration("dedicated", "Equal", "builds", "NoSchedule", null)),
                pullSecrets,
                cache,
                buildkitdConfig,
                "2Gi",
                "20Gi");
    }

    /** The Pod of the build Job the given jobs create for the repo. */
    static V1PodSpec podSpec(BuildJobs jobs, ResolvedRepo repo) {
        return jobs.job("ferry-build-x", repo, ImageKey.of(repo), 3600)
                .getSpec()
                .getTemplate()
                .getSpec();
    }

    static ResolvedRepo repo(String url) {
        String spec = java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8) + "/main";
        return new ResolvedRepo(new GitRepoProvider().parse(spec), COMMIT, spec, "refs/heads/main");
    }

    @Test
    void jobNamesAreDeterministicDnsSafeAndDistinctPerCommit() {
        ImageKey key =
                new ImageKey("https://example.org/" + "a-very-long-organisation-name/".repeat(4) + "repo.git", COMMIT);
        String name = Labels.jobName(key.id(), key.slug());
        assertThat(name).isEqualTo(Labels.jobName(key.id(), key.slug()));
        assertThat(name)
                .hasSizeLessThanOrEqualTo(52)
                .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")
                .startsWith("ferry-build-");
        ImageKey other = new ImageKey(key.repoUrl(), COMMIT.replace('0', '1'));
        assertThat(Labels.jobName(other.id(), other.slug())).isNotEqualTo(name);
    }

    @Test
    void thePrepareStepOfARecordDownloadsAndUnpacksItsFilesThroughTheGuard() throws Exception {
        try (dev.ferry.testing.ZenodoStandIn zenodo = new dev.ferry.testing.ZenodoStandIn()) {
            java.util.Map<String, byte[]> files = new java.util.LinkedHashMap<>();
            files.put(
                    "tides-1.0.zip",
                    dev.ferry.testing.ZenodoStandIn.zip(
                            "tides-1.0/requirements.txt", "numpy\n", "tides-1.0/notebooks/intro.ipynb", "{}"));
            zenodo.add(new dev.ferry.testing.ZenodoStandIn.Record(
                    801, 800, "Tides", List.of("Doe, Jane"), "software", "open", files));
            // the portal resolves the DOI; the Job carries the files, and its prepare step fetches them
            dev.ferry.repo.ZenodoRepoProvider provider =
                    new dev.ferry.repo.ZenodoRepoProvider(zenodo.resolver(), List.of(zenodo.base()));
            dev.ferry.repo.UrlGuard guard = new dev.ferry.repo.UrlGuard(List.of("http"), true, host ->
                    new java.net.InetAddress[] {java.net.InetAddress.getLoopbackAddress()});
            dev.ferry.repo.ArchiveFetcher fetcher =
                    new dev.ferry.repo.ArchiveFetcher(guard, Duration.ofSeconds(5), 1 << 20, Duration.ofSeconds(30));
            dev.ferry.repo.RepoProviders providers = new dev.ferry.repo.RepoProviders(List.of(provider));
            ResolvedRepo repo = new dev.ferry.repo.RefResolver(null, fetcher, providers, Duration.ZERO)
                    .resolve(providers.parse("zenodo", "10.5281/zenodo.800"));
            RepoProperties local =
                    repoProperties(List.of("http"), true, org.springframework.util.unit.DataSize.ofMegabytes(5));
            V1Container prepare = podSpec(
                            new BuildJobs(
                                    build(""),
                                    new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                                    local),
                            repo)
                    .getInitContainers()
                    .get(0);
            assertThat(prepare.getArgs()).containsExactly("prepare", "--commit", repo.commit(), "--out", "/workspace");
            assertThat(repo.commit()).matches("[0-9a-f]{40}");
            Map<String, String> env = new java.util.HashMap<>();
            prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
            assertThat(env)
                    .containsKey("FERRY_ARCHIVE_FILES")
                    .containsEntry("FERRY_REPO_URL", zenodo.base() + "/records/801");

            java.nio.file.Path workspace =
                    dev.ferry.testing.TempDirs.deleteOnExit(java.nio.file.Files.createTempDirectory("ws"));
            List<String> args = new java.util.ArrayList<>(prepare.getArgs());
            args.set(args.size() - 1, workspace.toString());
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            int code = dev.ferry.buildpack.BuildpackCommands.run(
                    args.toArray(String[]::new), new java.io.PrintStream(out), new java.io.PrintStream(out), env);

            assertThat(code).as(out.toString()).isZero();
            assertThat(java.nio.file.Files.readString(workspace.resolve("requirements.txt")))
                    .isEqualTo("numpy\n");
            assertThat(workspace.resolve("notebooks/intro.ipynb")).exists();
            assertThat(workspace.resolve(".ferry/Dockerfile")).exists();
            assertThat(workspace.resolve(".ferry-fetching")).doesNotExist();
            assertThat(zenodo.downloads(801, "tides-1.0.zip")).isEqualTo(1);
        }
    }

    @Test
    void thePrepareStepFetchesUnderTheRepositoryLimits() {
        BuildJobs jobs = new BuildJobs(
                build("push-creds"),
                new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                repoProperties());
        ResolvedRepo repo = repo("https://example.org/org/repo.git");
        var prepare = podSpec(jobs, repo).getInitContainers().get(0);
        var env = new java.util.HashMap<String, String>();
        prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        assertThat(env)
                .containsEntry("FERRY_REPO_MAX_FETCH_BYTES", String.valueOf(5L * 1024 * 1024))
                .containsEntry("FERRY_REPO_MAX_FETCH_SECONDS", "180")
                .containsEntry("FERRY_REPO_MAX_FETCH_OBJECTS", "5000")
                .containsEntry("FERRY_REPO_GIT_TIMEOUT_SECONDS", "30")
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
        assertThat(pod.getTolerations())
                .singleElement()
                .satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
                .containsEntry("app.kubernetes.io/managed-by", "ferry")
                .containsEntry("app.kubernetes.io/component", "build");

        V1Container prepare = pod.getInitContainers().get(0);
        assertThat(prepare.getImage()).isEqualTo("ghcr.io/ferry-dev/ferry:1");
        assertThat(prepare.getArgs())
                .containsExactly("prepare", "--commit", COMMIT, "--ref", "refs/heads/main", "--out", "/workspace");
        assertThat(prepare.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(prepare.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(prepare.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(prepare.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();

        V1Container builder = pod.getContainers().get(0);
        String image = "registry.example.org/ferry/" + key.slug() + ":" + COMMIT;
        assertThat(builder.getCommand()).containsExactly("buildctl-daemonless.sh");
        assertThat(builder.getArgs()).contains("type=image,name=" + image + ",push=true,registry.insecure=false");
        assertThat(builder.getResources().getLimits().get("memory").toSuffixedString())
                .isEqualTo("4Gi");
        assertThat(builder.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
        assertThat(builder.getSecurityContext().getPrivileged()).isNull();
        assertThat(builder.getVolumeMounts())
                .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/home/user/.docker"));
        assertThat(pod.getVolumes())
                .anySatisfy(v -> assertThat(
                                v.getSecret() == null ? null : v.getSecret().getSecretName())
                        .isEqualTo("push-creds"));

        // the clone URL's credentials: only in the prepare step's environment
        String everythingButEnv = io.kubernetes.client.util.Yaml.dump(job.getMetadata())
                + prepare.getArgs()
                + builder.getArgs()
                + io.kubernetes.client.util.Yaml.dump(
                        job.getSpec().getTemplate().getMetadata());
        assertThat(everythingButEnv).doesNotContain("s3cret");
        assertThat(prepare.getEnv()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("FERRY_REPO_URL"));
    }

    /** The Dockerfile is rendered in the Job's prepare step: the operator's ferry.buildpack.* settings must reach it. */
    @Test
    void thePrepareStepRendersWithTheOperatorsBuildpackSettings() {
        ResolvedRepo repo = repo("https://example.org/org/repo.git");
        var buildpack = new dev.ferry.buildpack.BuildpackProperties(
                "registry.example.org/mirror/buildpack-deps:jammy",
                null,
                "registry.example.org/ferry/env:3.10",
                "3.10",
                null,
                "4.3",
                null,
                null,
                null,
                "");
        V1Container prepare = podSpec(
                        new BuildJobs(
                                build(""),
                                new RegistryProperties("registry.example.org/ferry", "", false, "", ""),
                                repoProperties(),
                                "1.0",
                                buildpack),
                        repo)
                .getInitContainers()
                .get(0);
        Map<String, String> env = new java.util.HashMap<>();
        prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        assertThat(env)
                .containsEntry("FERRY_BUILDPACK_BASE_IMAGE", "registry.example.org/mirror/buildpack-deps:jammy")
                .containsEntry("FERRY_BUILDPACK_ENVIRONMENT_IMAGE", "registry.example.org/ferry/env:3.10")
                .containsEntry("FERRY_BUILDPACK_R_VERSION", "4.3");
        assertThat(dev.ferry.buildpack.BuildpackEnvironment.from(env)).isEqualTo(buildpack);
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
        var pod = new SessionPods(SessionPodsTest.session(List.of()))
                .pod(SessionPodsTest.spec(Map.of()), java.time.Instant.now());
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

        V1Job job = new BuildJobs(
                        build("push-creds", List.of("mirror-creds", "ghcr-creds")), registry, repoProperties())
                .job("ferry-build-x", repo, ImageKey.of(repo), 3600);
        V1Job plain = new BuildJobs(build("push-creds"), registry, repoProperties())
                .job("ferry-build-x", repo, ImageKey.of(repo), 3600);

        // as sent to the API server: the client's own serialisation
        assertThat(io.kubernetes.client.openapi.JSON.serialize(job))
                .contains("\"imagePullSecrets\":[{\"name\":\"mirror-creds\"},{\"name\":\"ghcr-creds\"}]");
        assertThat(io.kubernetes.client.openapi.JSON.serialize(plain)).doesNotContain("mirror-creds");
    }

    @Test
    void thePrepareImageDefaultsToThePortalsOwnVersionAndBothStepsPullOnlyWhenMissing() {
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        KubernetesProperties.Build unset = new KubernetesProperties.Build(
                "",
                "moby/buildkit:rootless",
                "IfNotPresent",
                Duration.ofMinutes(2),
                List.of(),
                List.of(),
                "",
                "500m",
                "2",
                "1Gi",
                "4Gi",
                Duration.ofMinutes(10),
                Map.of(),
                List.of(),
                List.of(),
                true,
                "",
                "2Gi",
                "20Gi");
        ResolvedRepo repo = repo("https://example.org/org/repo.git");

        var pod = podSpec(new BuildJobs(unset, registry, repoProperties(), "1.4.2"), repo);

        assertThat(pod.getInitContainers().get(0).getImage()).isEqualTo("ghcr.io/ferry-dev/ferry:1.4.2");
        assertThat(pod.getInitContainers().get(0).getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(pod.getContainers().get(0).getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(new BuildJobs(build(""), registry, repoProperties(), "1.4.2").prepareImage())
                .as("an operator's setting wins")
                .isEqualTo("ghcr.io/ferry-dev/ferry:1");
    }

    /**
     * #19.5: {@code prepare} renders the Dockerfile in the build Pod, so the portal's {@code ferry.buildpack.*} settings
     * must reach it. The Job's own {@code prepare} environment is handed to the {@code dockerfile} command (the code
     * {@code prepare} renders with): a base image and Python version the operator set appear in the Dockerfile.
     */
    @Test
    void thePrepareStepRendersTheDockerfileWithThePortalsBuildpackSettings(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var buildpack = dev.ferry.buildpack.BuildpackEnvironment.from(Map.of(
                "FERRY_BUILDPACK_BASE_IMAGE", "mirror.example.org/library/buildpack-deps:jammy",
                "FERRY_BUILDPACK_PYTHON_VERSION", "3.12"));
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        ResolvedRepo repo = repo("https://example.org/org/repo.git");
        V1Container prepare = podSpec(new BuildJobs(build(""), registry, repoProperties(), "1", buildpack), repo)
                .getInitContainers()
                .get(0);
        Map<String, String> env = new java.util.HashMap<>();
        prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        java.nio.file.Files.writeString(dir.resolve("requirements.txt"), "six\n");

        var out = new java.io.ByteArrayOutputStream();
        int code = dev.ferry.buildpack.BuildpackCommands.run(
                new String[] {"dockerfile", dir.toString()},
                new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8),
                System.err,
                env);
        String dockerfile = out.toString(java.nio.charset.StandardCharsets.UTF_8);

        assertThat(code).isZero();
        assertThat(dockerfile)
                .contains("FROM mirror.example.org/library/buildpack-deps:jammy")
                .doesNotContain("FROM docker.io/library/buildpack-deps")
                .contains("3.12");
        String defaults = render(dir, Map.of());
        assertThat(defaults)
                .as("without the variables, the defaults")
                .contains("FROM docker.io/library/buildpack-deps:jammy");
    }

    private static String render(java.nio.file.Path dir, Map<String, String> env) {
        var out = new java.io.ByteArrayOutputStream();
        dev.ferry.buildpack.BuildpackCommands.run(
                new String[] {"dockerfile", dir.toString()},
                new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8),
                System.err,
                env);
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** #19.11: BuildKit's cache goes to the registry, one reference per repository, and a setting turns it off. */
    @Test
    void buildsExportAndImportTheirCacheInTheRegistryPerRepositoryUnlessTurnedOff() {
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", true, "", "");
        ResolvedRepo repo = repo("https://example.org/org/repo.git");
        ResolvedRepo other = repo("https://example.org/org/other.git");
        String ref = "registry.example.org/ferry/" + ImageKey.of(repo).slug() + ":buildcache";

        List<String> args = podSpec(new BuildJobs(build(""), registry, repoProperties()), repo)
                .getContainers()
                .get(0)
                .getArgs();
        List<String> otherArgs = new BuildJobs(build(""), registry, repoProperties())
                .job("ferry-build-y", other, ImageKey.of(other), 3600)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getArgs();

        assertThat(args)
                .containsSubsequence(
                        "--export-cache",
                        "type=registry,ref=" + ref + ",mode=max,ignore-error=true,registry.insecure=true")
                .containsSubsequence("--import-cache", "type=registry,ref=" + ref + ",registry.insecure=true");
        assertThat(String.join(" ", otherArgs))
                .doesNotContain(ref)
                .contains(ImageKey.of(other).slug() + ":buildcache");
        assertThat(ref).as("no commit's tag").doesNotMatch(".*:[0-9a-f]{40}$");

        KubernetesProperties.Build off = build("", List.of(), false, "");
        assertThat(podSpec(new BuildJobs(off, registry, repoProperties()), repo)
                        .getContainers()
                        .get(0)
                        .getArgs())
                .doesNotContain("--export-cache", "--import-cache")
                .contains("type=image,name=registry.example.org/ferry/"
                        + ImageKey.of(repo).slug() + ":" + COMMIT + ",push=true,registry.insecure=true");
    }

    /** #19.11: a registry mirror for base images, in the buildkitd.toml rootless BuildKit reads (~/.config/buildkit). */
    @Test
    void aBuildkitdConfigMapIsMountedWhereRootlessBuildKitReadsIt() {
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        ResolvedRepo repo = repo("https://example.org/org/repo.git");
        KubernetesProperties.Build b = build("");
        KubernetesProperties.Build mirrored = build("", List.of(), true, "ferry-buildkitd");

        var pod = podSpec(new BuildJobs(mirrored, registry, repoProperties()), repo);
        var plain = podSpec(new BuildJobs(b, registry, repoProperties()), repo);

        var volume = pod.getVolumes().stream()
                .filter(v -> v.getConfigMap() != null)
                .findFirst()
                .orElseThrow();
        assertThat(volume.getConfigMap().getName()).isEqualTo("ferry-buildkitd");
        assertThat(volume.getConfigMap().getItems()).singleElement().satisfies(i -> {
            assertThat(i.getKey()).isEqualTo("buildkitd.toml");
            assertThat(i.getPath()).isEqualTo("buildkitd.toml");
        });
        assertThat(pod.getContainers().get(0).getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo(volume.getName());
            assertThat(m.getMountPath()).isEqualTo("/home/user/.config/buildkit");
            assertThat(m.getReadOnly()).isTrue();
        });
        assertThat(plain.getVolumes())
                .noneSatisfy(v -> assertThat(v.getConfigMap()).isNotNull());
    }

    /** #19.12: one build or session cannot fill its node's disk; the defaults, as Spring binds them, bound both. */
    @Test
    void buildsAndSessionsBoundTheNodeDiskTheyUseByDefault() {
        var bound = new org.springframework.boot.context.properties.bind.Binder(
                        new org.springframework.boot.context.properties.source.MapConfigurationPropertySource(Map.of()))
                .bindOrCreate("ferry.kubernetes", KubernetesProperties.class);
        RegistryProperties registry = new RegistryProperties("registry.example.org/ferry", "", false, "", "");
        ResolvedRepo repo = repo("https://example.org/org/repo.git");

        var pod = podSpec(new BuildJobs(bound.build(), registry, repoProperties(), "1"), repo);
        for (V1Container c :
                List.of(pod.getInitContainers().get(0), pod.getContainers().get(0))) {
            assertThat(c.getResources().getRequests()).as(c.getName()).containsKey("ephemeral-storage");
            assertThat(c.getResources().getLimits()).as(c.getName()).containsKey("ephemeral-storage");
        }
        assertThat(pod.getContainers()
                        .get(0)
                        .getResources()
                        .getLimits()
                        .get("ephemeral-storage")
                        .toSuffixedString())
                .isEqualTo("20Gi");
        assertThat(pod.getVolumes())
                .filteredOn(v -> v.getEmptyDir() != null)
                .hasSize(3)
                .allSatisfy(v -> assertThat(v.getEmptyDir().getSizeLimit())
                        .as(v.getName())
                        .isNotNull());
        assertThat(pod.getVolumes())
                .filteredOn(v -> v.getName().equals("workspace"))
                .singleElement()
                .satisfies(v -> assertThat(
                                v.getEmptyDir().getSizeLimit().getNumber().longValue())
                        .as("the fetch and checkout limits, and a margin")
                        .isEqualTo(5L * 1024 * 1024 + 300L * 1024 * 1024 + 64L * 1024 * 1024));
        assertThat(bound.build().builderImage())
                .as("a current rootless BuildKit")
                .isEqualTo("docker.io/moby/buildkit:v0.31.1-rootless");
        assertThat(bound.build().cache()).isTrue();

        SessionSpec spec = SessionPodsTest.spec();
        var session = new SessionPods(bound.session())
                .pod(spec, java.time.Instant.now())
                .getSpec()
                .getContainers()
                .get(0);
        assertThat(session.getResources().getRequests().get("ephemeral-storage").toSuffixedString())
                .isEqualTo("1Gi");
        assertThat(session.getResources().getLimits().get("ephemeral-storage").toSuffixedString())
                .isEqualTo("10Gi");
    }

    /** #19.12: a build evicted for its disk bound is said so, naming the setting, not blamed on the repository. */
    @Test
    void aBuildEvictedForItsDiskBoundSaysSoAndNamesTheSetting() {
        var pod = new io.kubernetes.client.openapi.models.V1Pod()
                .status(new io.kubernetes.client.openapi.models.V1PodStatus()
                        .phase("Failed")
                        .reason("Evicted")
                        .message("Pod ephemeral local storage usage exceeds the total limit of containers 20Gi. "));
        assertThat(KubernetesBuilder.evicted(pod))
                .startsWith("Kubernetes evicted the build's Pod (Pod ephemeral local storage usage")
                .contains("ferry.kubernetes.build.ephemeral-storage-limit");
        var pressure = new io.kubernetes.client.openapi.models.V1Pod()
                .status(new io.kubernetes.client.openapi.models.V1PodStatus()
                        .phase("Failed")
                        .reason("Evicted")
                        .message("The node was low on resource: memory."));
        assertThat(KubernetesBuilder.evicted(pressure))
                .contains("low on resource: memory")
                .contains("Launch again")
                .doesNotContain("ephemeral-storage-limit");
        assertThat(KubernetesBuilder.evicted(new io.kubernetes.client.openapi.models.V1Pod()
                        .status(new io.kubernetes.client.openapi.models.V1PodStatus().phase("Failed"))))
                .isNull();
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
