package dev.ferry.platform.kubernetes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.V1AppArmorProfile;
import io.kubernetes.client.openapi.models.V1Capabilities;
import io.kubernetes.client.openapi.models.V1ConfigMapVolumeSource;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1EmptyDirVolumeSource;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobSpec;
import io.kubernetes.client.openapi.models.V1KeyToPath;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1SeccompProfile;
import io.kubernetes.client.openapi.models.V1SecretVolumeSource;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeMount;

import dev.ferry.build.ImageKey;
import dev.ferry.buildpack.BuildpackEnvironment;
import dev.ferry.buildpack.BuildpackProperties;
import dev.ferry.repo.RepoProperties;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.repo.Urls;

/**
 * A build's Job: an init container {@code prepare} (Ferry's own image) fetches the commit and writes the build context
 * and Dockerfile into a shared {@code emptyDir}; then the builder (rootless BuildKit by default) builds and pushes the
 * image. Built with the client's model classes.
 */
final class BuildJobs {

    static final String PREPARE = "prepare";
    /** Where {@code prepare} writes {@code <status> <sentence>} when it refuses the repository (Kubernetes' default). */
    static final String TERMINATION_LOG = "/dev/termination-log";

    static final String BUILDER = "build";
    static final String WORKSPACE = "/workspace";
    static final String BUILDKITD_CONFIG_DIR = "/home/user/.config/buildkit";

    private final KubernetesProperties.Build settings;
    private final RegistryProperties registry;
    private final RepoProperties repo;
    private final String prepareImage;
    private final BuildpackProperties buildpack;

    BuildJobs(KubernetesProperties.Build settings, RegistryProperties registry, RepoProperties repo) {
        this(settings, registry, repo, null);
    }

    /** {@code portalVersion}: this portal's version, the tag of the default prepare image (null: unknown). */
    BuildJobs(
            KubernetesProperties.Build settings,
            RegistryProperties registry,
            RepoProperties repo,
            String portalVersion) {
        this(settings, registry, repo, portalVersion, BuildpackProperties.defaults());
    }

    /** {@code buildpack}: the portal's {@code ferry.buildpack.*} settings, which {@code prepare} renders with. */
    BuildJobs(
            KubernetesProperties.Build settings,
            RegistryProperties registry,
            RepoProperties repo,
            String portalVersion,
            BuildpackProperties buildpack) {
        this.settings = settings;
        this.registry = registry;
        this.repo = repo;
        this.prepareImage = settings.prepareImage(portalVersion);
        this.buildpack = buildpack;
    }

    String prepareImage() {
        return prepareImage;
    }

    String image(ImageKey key) {
        return registry.image(key.slug(), key.commit());
    }

    /** Where the repository's BuildKit cache lives: beside its images, under a tag no commit has. */
    String cacheRef(ImageKey key) {
        return registry.image(key.slug(), KubernetesProperties.Build.CACHE_TAG);
    }

    V1Job job(String name, ResolvedRepo resolved, ImageKey key, long timeoutSeconds) {
        String image = image(key);
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.MANAGED_BY, Labels.FERRY);
        labels.put(Labels.COMPONENT, Labels.BUILD_COMPONENT);
        labels.put(Labels.BUILD, name);
        labels.put(Labels.REPO, Labels.labelValue(key.slug()));
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(Labels.A_REPO_URL, Urls.redact(resolved.repoUrl()));
        annotations.put(Labels.A_COMMIT, resolved.commit());
        annotations.put(Labels.A_IMAGE, image);

        // The clone URL may hold credentials: it goes in the environment, never in arguments or annotations.
        List<V1EnvVar> prepareEnv = new ArrayList<>(List.of(
                new V1EnvVar().name("FERRY_REPO_URL").value(resolved.repoUrl()),
                new V1EnvVar().name("FERRY_REPO_ALLOWED_SCHEMES").value(String.join(",", repo.allowedSchemes())),
                new V1EnvVar()
                        .name("FERRY_REPO_ALLOW_PRIVATE_ADDRESSES")
                        .value(String.valueOf(repo.allowPrivateAddresses())),
                new V1EnvVar()
                        .name("FERRY_REPO_GIT_TIMEOUT_SECONDS")
                        .value(String.valueOf(Math.max(1, repo.gitTimeout().toSeconds()))),
                new V1EnvVar()
                        .name("FERRY_REPO_MAX_FETCH_BYTES")
                        .value(String.valueOf(repo.maxFetchSize().toBytes())),
                new V1EnvVar()
                        .name("FERRY_REPO_MAX_FETCH_SECONDS")
                        .value(String.valueOf(Math.max(1, repo.maxFetchTime().toSeconds()))),
                new V1EnvVar().name("FERRY_REPO_MAX_FETCH_OBJECTS").value(String.valueOf(repo.maxFetchObjects())),
                new V1EnvVar()
                        .name("FERRY_REPO_MAX_CHECKOUT_BYTES")
                        .value(String.valueOf(repo.maxCheckoutSize().toBytes())),
                new V1EnvVar().name("FERRY_REPO_MAX_CHECKOUT_FILES").value(String.valueOf(repo.maxCheckoutFiles())),
                new V1EnvVar().name("FERRY_TERMINATION_LOG").value(TERMINATION_LOG)));
        // the Dockerfile is rendered in the Pod: with the portal's base images, mirrors and s2i builder, not the
        // defaults
        BuildpackEnvironment.of(buildpack)
                .forEach((k, v) -> prepareEnv.add(new V1EnvVar().name(k).value(v)));
        if (resolved.isArchive()) {
            // a record of a research archive: the prepare step downloads these files instead of cloning
            prepareEnv.add(new V1EnvVar()
                    .name("FERRY_ARCHIVE_FILES")
                    .value(resolved.archive().fetchJson()));
        }
        List<String> prepareArgs =
                new ArrayList<>(List.of(PREPARE, "--commit", resolved.commit())); // URL: FERRY_REPO_URL
        if (resolved.fetchRef() != null) {
            prepareArgs.addAll(List.of("--ref", resolved.fetchRef()));
        }
        prepareArgs.addAll(List.of("--out", WORKSPACE));

        V1VolumeMount workspace = new V1VolumeMount().name("workspace").mountPath(WORKSPACE);
        V1Container prepare = new V1Container()
                .name(PREPARE)
                .image(prepareImage)
                .imagePullPolicy(settings.imagePullPolicy())
                .args(prepareArgs)
                .env(prepareEnv)
                .terminationMessagePath(TERMINATION_LOG)
                .volumeMounts(List.of(workspace, new V1VolumeMount().name("tmp").mountPath("/tmp")))
                // its root is read-only: its writable layer and log stay small; what it writes goes to the emptyDirs
                .resources(PodSettings.resources("100m", "1", "256Mi", "1Gi", "64Mi", "1Gi"))
                .securityContext(new V1SecurityContext()
                        .runAsUser(1000L)
                        .runAsNonRoot(true)
                        .allowPrivilegeEscalation(false)
                        .readOnlyRootFilesystem(true)
                        .capabilities(new V1Capabilities().drop(List.of("ALL")))
                        .seccompProfile(new V1SeccompProfile().type("RuntimeDefault")));

        List<V1VolumeMount> builderMounts = new ArrayList<>(
                List.of(workspace, new V1VolumeMount().name("buildkit").mountPath("/home/user/.local/share/buildkit")));
        // each emptyDir bounded, so that one build cannot fill the node's disk and get other Pods evicted: the
        // checkout is bounded by the repository limits (its fetch plus its files), BuildKit's state by the setting
        long workspaceBytes =
                repo.maxFetchSize().toBytes() + repo.maxCheckoutSize().toBytes() + (64L << 20);
        List<V1Volume> volumes = new ArrayList<>(List.of(
                new V1Volume()
                        .name("workspace")
                        .emptyDir(new V1EmptyDirVolumeSource().sizeLimit(new Quantity(String.valueOf(workspaceBytes)))),
                new V1Volume().name("tmp").emptyDir(new V1EmptyDirVolumeSource().sizeLimit(new Quantity("512Mi"))),
                new V1Volume()
                        .name("buildkit")
                        .emptyDir(new V1EmptyDirVolumeSource()
                                .sizeLimit(new Quantity(settings.ephemeralStorageLimit())))));
        if (!settings.pushSecret().isBlank()) {
            volumes.add(new V1Volume()
                    .name("push-secret")
                    .secret(new V1SecretVolumeSource()
                            .secretName(settings.pushSecret())
                            .items(List.of(
                                    new V1KeyToPath().key(".dockerconfigjson").path("config.json")))));
            builderMounts.add(new V1VolumeMount()
                    .name("push-secret")
                    .mountPath("/home/user/.docker")
                    .readOnly(true));
        }
        if (!settings.buildkitdConfig().isBlank()) {
            // rootless buildkitd reads ~/.config/buildkit/buildkitd.toml (registry mirrors, for one)
            volumes.add(new V1Volume()
                    .name("buildkitd-config")
                    .configMap(new V1ConfigMapVolumeSource()
                            .name(settings.buildkitdConfig())
                            .items(List.of(
                                    new V1KeyToPath().key("buildkitd.toml").path("buildkitd.toml")))));
            builderMounts.add(new V1VolumeMount()
                    .name("buildkitd-config")
                    .mountPath(BUILDKITD_CONFIG_DIR)
                    .readOnly(true));
        }
        String cache = cacheRef(key);
        V1Container builder = new V1Container()
                .name(BUILDER)
                .image(settings.builderImage())
                .imagePullPolicy(settings.imagePullPolicy())
                .command(settings.command())
                .args(settings.args().stream()
                        .map(a -> a.replace("{image}", image)
                                .replace("{cache}", cache)
                                .replace("{insecure}", String.valueOf(registry.insecure())))
                        .toList())
                .env(List.of(
                        new V1EnvVar().name("BUILDKITD_FLAGS").value("--oci-worker-no-process-sandbox"),
                        new V1EnvVar().name("DOCKER_CONFIG").value("/home/user/.docker")))
                .volumeMounts(builderMounts)
                .resources(settings.resources())
                // Rootless BuildKit needs user namespaces: its documented setting is seccomp and AppArmor Unconfined,
                // still without privileges, as uid 1000, with no capability added.
                .securityContext(new V1SecurityContext()
                        .runAsUser(1000L)
                        .runAsGroup(1000L)
                        .runAsNonRoot(true)
                        .seccompProfile(new V1SeccompProfile().type("Unconfined"))
                        .appArmorProfile(new V1AppArmorProfile().type("Unconfined")));

        V1PodSpec pod = settings.place(new V1PodSpec()
                .initContainers(List.of(prepare))
                .containers(List.of(builder))
                .volumes(volumes)
                .restartPolicy("Never")
                .automountServiceAccountToken(false)
                .enableServiceLinks(false)
                .securityContext(new V1PodSecurityContext()
                        .runAsUser(1000L)
                        .runAsGroup(1000L)
                        .fsGroup(1000L)
                        .runAsNonRoot(true))
                .overhead(null)); // as for session Pods: "overhead":{} makes the Job controller's Pod refused
        // (FailedCreate)
        return new V1Job()
                .apiVersion("batch/v1")
                .kind("Job")
                .metadata(new V1ObjectMeta().name(name).labels(labels).annotations(annotations))
                .spec(new V1JobSpec()
                        .backoffLimit(0)
                        .activeDeadlineSeconds(timeoutSeconds)
                        .ttlSecondsAfterFinished(
                                (int) Math.max(0, settings.ttlAfterFinished().toSeconds()))
                        .template(new V1PodTemplateSpec()
                                .metadata(new V1ObjectMeta().labels(labels).annotations(annotations))
                                .spec(pod)));
    }
}
