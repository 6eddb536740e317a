package dev.ferry.platform.kubernetes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The kubernetes platform ({@code ferry.kubernetes.*}).
 *
 * @param namespace     where Ferry keeps its workshops' ConfigMaps and its Lease, and runs sessions and builds unless
 *                      {@code sessionsNamespace}/{@code buildsNamespace} say otherwise; empty: the portal pod's own
 *                      namespace (or {@code default})
 * @param apiUrl        the API server, without authentication (a local proxy such as {@code kubectl proxy}); empty: the
 *                      kubeconfig below, else the in-cluster service account, else {@code ~/.kube/config}
 * @param kubeconfig    a kubeconfig file to use (its current context); empty: {@code KUBECONFIG} / the default
 * @param activityFlush how often the activity a replica's proxy saw is written to the session Pod's annotation
 *                      (only when it changed), so that the culler on another replica decides on it
 * @param leaseName     the {@code coordination.k8s.io/v1} Lease the replicas elect the culler with
 * @param leaseDuration how long a leader's claim lasts without renewal
 * @param apiRetryMax   the longest wait between two attempts to list or watch Ferry's objects while the API server
 *                      fails (the wait starts at 1 s and doubles, with jitter; the log warns once a minute meanwhile)
 * @param session       session Pods
 * @param build         build Jobs
 * @param sessionsNamespace where session Pods run; empty: {@code namespace}. A namespace of their own can enforce Pod
 *                      Security {@code restricted} for strangers' code, which build Pods (rootless BuildKit) cannot
 *                      meet; the portal needs a Role there (deploy/overlays/namespaces)
 * @param buildsNamespace where build Jobs (and their Pods) run; empty: {@code namespace}. Workshops' ConfigMaps and
 *                      the Lease stay in {@code namespace}
 */
@ConfigurationProperties("ferry.kubernetes")
public record KubernetesProperties(
        @DefaultValue("") String namespace,
        @DefaultValue("") String apiUrl,
        @DefaultValue("") String kubeconfig,
        @DefaultValue("30s") Duration activityFlush,
        @DefaultValue("ferry-culler") String leaseName,
        @DefaultValue("15s") Duration leaseDuration,
        @DefaultValue("30s") Duration apiRetryMax,
        @DefaultValue Session session,
        @DefaultValue Build build,
        @DefaultValue("") String sessionsNamespace,
        @DefaultValue("") String buildsNamespace) {

    /**
     * Session Pods.
     *
     * @param imagePullPolicy {@code IfNotPresent}, {@code Always} or {@code Never}
     * @param uid             the user the notebook server runs as (never root)
     * @param cpuRequest      CPU reserved for each session
     * @param cpuLimit        CPU a session may use at most
     * @param memoryRequest   memory reserved for each session
     * @param memoryLimit     memory a session may use at most (beyond: the kernel kills it, the user is told)
     * @param nodeSelector    node labels session Pods must run on
     * @param tolerations     taints session Pods tolerate
     * @param imagePullSecrets {@code kubernetes.io/dockerconfigjson} Secrets (names, in the sessions' namespace) the
     *                        kubelet pulls session images with, as the Pod's {@code imagePullSecrets}; empty: the
     *                        nodes' own credentials (or none)
     * @param launchTimeout   how long a launch may wait for its Pod to be scheduled, pull its image and answer; on
     *                        Kubernetes this, not {@code ferry.launch.timeout}, bounds a launch. Ten minutes: a cluster
     *                        autoscaler takes a few minutes to add a node, and a cold node pulls a multi-GB image in
     *                        a few more; meanwhile the launch page shows what the scheduler and the kubelet say
     * @param ephemeralStorageRequest node disk reserved for each session (its writable layer and logs)
     * @param ephemeralStorageLimit   node disk a session may fill at most: beyond, the kubelet evicts that session
     *                        alone, before the node runs short and evicts others
     */
    public record Session(
            @DefaultValue("IfNotPresent") String imagePullPolicy,
            @DefaultValue("1000") long uid,
            @DefaultValue("100m") String cpuRequest,
            @DefaultValue("1") String cpuLimit,
            @DefaultValue("512Mi") String memoryRequest,
            @DefaultValue("1Gi") String memoryLimit,
            @DefaultValue({}) Map<String, String> nodeSelector,
            @DefaultValue({}) List<Toleration> tolerations,
            @DefaultValue({}) List<String> imagePullSecrets,
            @DefaultValue("10m") Duration launchTimeout,
            @DefaultValue("1Gi") String ephemeralStorageRequest,
            @DefaultValue("10Gi") String ephemeralStorageLimit)
            implements PodSettings {}

    /**
     * Build Jobs.
     *
     * @param prepareImage     the image of the Job's first step, which fetches the commit and writes the Dockerfile:
     *                         Ferry's own image (it runs {@code prepare}); empty: {@code ghcr.io/ferry-dev/ferry} at
     *                         this portal's own version (never {@code :latest}, which Kubernetes always pulls and which
     *                         may be another version than the portal's)
     * @param builderImage     the image builder (rootless BuildKit by default)
     * @param imagePullPolicy  the pull policy of both steps' images: {@code IfNotPresent} (an image loaded onto the
     *                         nodes, e.g. with {@code kind load}, is used), {@code Always} or {@code Never}
     * @param startGrace       how long a build Pod may be refused (the Job's {@code FailedCreate} events) or unable to
     *                         start a step (e.g. {@code ImagePullBackOff}) before the build fails with the reason; an
     *                         image the registry does not have, or a Pod an admission policy forbids, fails at once
     * @param builderCommand   its command; empty: {@code buildctl-daemonless.sh}
     * @param builderArgs      its arguments, with {@code {image}} replaced by the image name, {@code {cache}} by the
     *                         repository's cache reference and {@code {insecure}} by {@code true}/{@code false};
     *                         empty: a BuildKit build of
     *                         {@code /workspace} with {@code /workspace/.ferry/Dockerfile}, pushed to the registry
     * @param pushSecret       a {@code kubernetes.io/dockerconfigjson} Secret with the registry's push credentials,
     *                         mounted as the builder's Docker config; empty: push without credentials
     * @param cpuRequest       CPU reserved for a build
     * @param cpuLimit         CPU a build may use at most
     * @param memoryRequest    memory reserved for a build
     * @param memoryLimit      memory a build may use at most
     * @param ttlAfterFinished how long a finished Job (and its pod, with its log) is kept
     * @param nodeSelector     node labels build pods must run on
     * @param tolerations      taints build pods tolerate
     * @param imagePullSecrets {@code kubernetes.io/dockerconfigjson} Secrets (names, in the builds' namespace) the
     *                         kubelet pulls the {@code prepare} and builder images with (the pod template's
     *                         {@code imagePullSecrets}); the push credentials are {@code pushSecret}'s
     * @param cache            export BuildKit's cache to the registry and import it on the next build of the same
     *                         repository ({@code type=registry}, {@code mode=max}, at {@code <prefix><slug>:buildcache}),
     *                         so a new commit rebuilds only the layers it changed; needs push rights there too.
     *                         {@code false}: every build starts cold
     * @param buildkitdConfig  a ConfigMap (in the builds' namespace) with a key {@code buildkitd.toml}, mounted where
     *                         rootless BuildKit reads its configuration ({@code ~/.config/buildkit}), e.g. a
     *                         {@code [registry."docker.io"] mirrors = [...]} for base-image pulls; empty: none
     * @param ephemeralStorageRequest node disk reserved for a build (BuildKit's layers and state)
     * @param ephemeralStorageLimit   node disk a build may fill at most (BuildKit's state directory's {@code sizeLimit}
     *                         too); beyond, the kubelet evicts the build Pod and the build fails
     */
    public record Build(
            @DefaultValue("") String prepareImage,

            @DefaultValue("docker.io/moby/buildkit:v0.31.1-rootless")
            String builderImage,

            @DefaultValue("IfNotPresent") String imagePullPolicy,
            @DefaultValue("2m") Duration startGrace,
            @DefaultValue({}) List<String> builderCommand,
            @DefaultValue({}) List<String> builderArgs,
            @DefaultValue("") String pushSecret,
            @DefaultValue("500m") String cpuRequest,
            @DefaultValue("2") String cpuLimit,
            @DefaultValue("1Gi") String memoryRequest,
            @DefaultValue("4Gi") String memoryLimit,
            @DefaultValue("10m") Duration ttlAfterFinished,
            @DefaultValue({}) Map<String, String> nodeSelector,
            @DefaultValue({}) List<Toleration> tolerations,
            @DefaultValue({}) List<String> imagePullSecrets,
            @DefaultValue("true") boolean cache,
            @DefaultValue("") String buildkitdConfig,
            @DefaultValue("2Gi") String ephemeralStorageRequest,
            @DefaultValue("20Gi") String ephemeralStorageLimit)
            implements PodSettings {

        static final List<String> DEFAULT_COMMAND = List.of("buildctl-daemonless.sh");
        static final List<String> DEFAULT_ARGS = List.of(
                "build",
                "--frontend",
                "dockerfile.v0",
                "--local",
                "context=/workspace",
                "--local",
                "dockerfile=/workspace/.ferry",
                "--output",
                "type=image,name={image},push=true,registry.insecure={insecure}");
        /** Added to the default arguments when {@code cache} is on: a failed cache export never fails the build. */
        static final List<String> CACHE_ARGS = List.of(
                "--export-cache", "type=registry,ref={cache},mode=max,ignore-error=true,registry.insecure={insecure}",
                "--import-cache", "type=registry,ref={cache},registry.insecure={insecure}");
        /** The tag of a repository's cache in the registry, beside its images (tagged by commit, never this). */
        static final String CACHE_TAG = "buildcache";

        static final String PREPARE_REPOSITORY = "ghcr.io/ferry-dev/ferry";

        /** The prepare image: the setting, else Ferry's image at {@code portalVersion} (null: unknown, {@code latest}). */
        String prepareImage(String portalVersion) {
            if (!prepareImage.isBlank()) {
                return prepareImage;
            }
            return PREPARE_REPOSITORY + ":"
                    + (portalVersion == null || portalVersion.isBlank() ? "latest" : portalVersion);
        }

        List<String> command() {
            return builderCommand.isEmpty() ? DEFAULT_COMMAND : builderCommand;
        }

        List<String> args() {
            if (!builderArgs.isEmpty()) {
                return builderArgs;
            }
            if (!cache) {
                return DEFAULT_ARGS;
            }
            List<String> args = new ArrayList<>(DEFAULT_ARGS);
            args.addAll(CACHE_ARGS);
            return args;
        }
    }

    /** A Kubernetes toleration, as in a Pod spec. */
    public record Toleration(
            String key, @DefaultValue("Equal") String operator, String value, String effect, Long tolerationSeconds) {}
}
