package dev.ferry.platform.kubernetes;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.openapi.models.V1Capabilities;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1HTTPGetAction;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1SeccompProfile;
import io.kubernetes.client.openapi.models.V1SecurityContext;

import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.repo.RepoSpec;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.repo.Urls;
import dev.ferry.session.JupyterOptions;
import dev.ferry.session.Membership;
import dev.ferry.session.SessionSpec;

/**
 * A session's Pod, built with the client's model classes, and the way back from a Pod to the session it runs (for a
 * portal that adopts sessions it did not start).
 */
final class SessionPods {

    static final int PORT = 8888;
    static final String CONTAINER = "notebook";

    private final KubernetesProperties.Session settings;

    SessionPods(KubernetesProperties.Session settings) {
        this.settings = settings;
    }

    V1Pod pod(SessionSpec spec, Instant created) {
        String base = spec.baseUrl();
        List<String> args =
                new ArrayList<>(List.of("jupyter", "notebook", "--ip=0.0.0.0", "--port=" + PORT, "--no-browser"));
        // notebook < 7 reads NotebookApp, jupyter_server reads ServerApp; each ignores the other's settings
        args.addAll(JupyterOptions.forApp("NotebookApp", spec));
        args.addAll(JupyterOptions.forApp("ServerApp", spec));
        List<V1EnvVar> env = new ArrayList<>();
        env.add(new V1EnvVar().name("JUPYTER_TOKEN").value(spec.token()));
        spec.binderEnv().forEach((k, v) -> env.add(new V1EnvVar().name(k).value(v)));

        ResolvedRepo repo = spec.repo();
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.MANAGED_BY, Labels.FERRY);
        labels.put(Labels.COMPONENT, Labels.SESSION_COMPONENT);
        labels.put(Labels.SESSION, spec.id());
        labels.put(Labels.REPO, Labels.labelValue(spec.environment().key().slug()));
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(Labels.A_PROVIDER, repo.spec().provider());
        annotations.put(Labels.A_SPEC, repo.spec().shownSpec()); // never credentials
        annotations.put(Labels.A_SHOWN_SPEC, repo.spec().shownSpec());
        annotations.put(Labels.A_REPO_URL, Urls.redact(repo.repoUrl()));
        annotations.put(Labels.A_REF, String.valueOf(repo.spec().ref()));
        annotations.put(Labels.A_RESOLVED_SPEC, repo.resolvedSpec());
        annotations.put(Labels.A_FETCH_REF, repo.fetchRef() == null ? "" : repo.fetchRef());
        annotations.put(Labels.A_REF_URL, repo.refUrl());
        annotations.put(Labels.A_COMMIT, repo.commit());
        annotations.put(Labels.A_IMAGE, spec.environment().imageName());
        annotations.put(Labels.A_CREATED, created.toString());
        annotations.put(Labels.A_LAST_ACTIVITY, created.toString());
        annotations.put(Labels.A_ORIGINS, String.join(" ", spec.allowedOrigins()));
        Membership membership = spec.membership();
        if (membership != null) {
            labels.put(Labels.WORKSHOP, membership.workshop());
            if (!membership.pooled()) {
                annotations.put(Labels.A_ATTENDEE, membership.attendee());
            }
        }

        V1Container container = new V1Container()
                .name(CONTAINER)
                .image(spec.environment().imageName())
                .imagePullPolicy(settings.imagePullPolicy())
                .args(args) // the image's entrypoint (repo2docker's start wrapper, a repository's `start`) stays
                .env(env)
                .ports(List.of(new V1ContainerPort().name("notebook").containerPort(PORT)))
                .readinessProbe(new V1Probe()
                        .httpGet(new V1HTTPGetAction().path(base + "api").port(new IntOrString(PORT)))
                        // a kernel busy under its CPU limit can keep the server from answering for a while: a probe
                        // that gives up after 1 s marks a working session not Ready. Not Ready after 15 s unanswered;
                        // every 5 s, so that a launch sees the first Ready soon after the server answers.
                        .periodSeconds(5)
                        .timeoutSeconds(5)
                        .failureThreshold(3))
                // ephemeral-storage: a session filling its writable layer is evicted alone, not its node's neighbours
                .resources(settings.resources())
                .securityContext(new V1SecurityContext()
                        .runAsUser(settings.uid())
                        .runAsNonRoot(true)
                        .allowPrivilegeEscalation(false)
                        .capabilities(new V1Capabilities().drop(List.of("ALL"))));
        V1PodSpec podSpec = settings.place(new V1PodSpec()
                .containers(List.of(container))
                .restartPolicy("Never")
                .automountServiceAccountToken(false)
                .enableServiceLinks(false)
                .securityContext(new V1PodSecurityContext()
                        .runAsUser(settings.uid())
                        .runAsGroup(settings.uid())
                        .fsGroup(settings.uid())
                        .runAsNonRoot(true)
                        .seccompProfile(new V1SeccompProfile().type("RuntimeDefault")))
                // client-java starts overhead as an empty map, sent as "overhead":{}; the RuntimeClass admission plugin
                // of Kubernetes <= 1.30 refuses any Pod with overhead and no runtimeClassName
                // (kubernetes-client/java#3076)
                .overhead(null));
        return new V1Pod()
                .apiVersion("v1")
                .kind("Pod")
                .metadata(new V1ObjectMeta()
                        .name(Labels.podName(spec.id()))
                        .labels(labels)
                        .annotations(annotations))
                .spec(podSpec);
    }

    /** The session a Pod runs, from its labels, annotations and environment; null when the Pod is not one of ours. */
    static SessionSpec specOf(V1Pod pod) {
        V1ObjectMeta meta = pod.getMetadata();
        if (meta == null || meta.getLabels() == null || meta.getAnnotations() == null || pod.getSpec() == null) {
            return null;
        }
        String id = meta.getLabels().get(Labels.SESSION);
        Map<String, String> a = meta.getAnnotations();
        if (id == null
                || !Labels.SESSION_COMPONENT.equals(meta.getLabels().get(Labels.COMPONENT))
                || a.get(Labels.A_COMMIT) == null) {
            return null;
        }
        String token = null;
        Map<String, String> binderEnv = new LinkedHashMap<>();
        for (V1Container c : pod.getSpec().getContainers()) {
            if (c.getEnv() == null) {
                continue;
            }
            for (V1EnvVar e : c.getEnv()) {
                if (e.getName().equals("JUPYTER_TOKEN")) {
                    token = e.getValue();
                } else if (e.getName().startsWith("BINDER_") || e.getName().startsWith("JUPYTERHUB_")) {
                    binderEnv.put(e.getName(), e.getValue());
                }
            }
        }
        if (token == null) {
            return null;
        }
        String ref = a.get(Labels.A_REF);
        RepoSpec repoSpec = new RepoSpec(
                a.get(Labels.A_PROVIDER),
                a.get(Labels.A_SPEC),
                a.get(Labels.A_REPO_URL),
                "null".equals(ref) ? null : ref,
                a.getOrDefault(Labels.A_SHOWN_SPEC, a.get(Labels.A_SPEC)));
        String fetchRef = a.getOrDefault(Labels.A_FETCH_REF, "");
        ResolvedRepo repo = new ResolvedRepo(
                repoSpec,
                a.get(Labels.A_COMMIT),
                a.get(Labels.A_RESOLVED_SPEC),
                fetchRef.isEmpty() ? null : fetchRef,
                a.getOrDefault(Labels.A_REF_URL, ""));
        Environment environment = new Environment(ImageKey.of(repo), a.get(Labels.A_IMAGE));
        String origins = a.getOrDefault(Labels.A_ORIGINS, "").trim();
        return new SessionSpec(
                id,
                token,
                repo,
                environment,
                binderEnv,
                origins.isEmpty() ? List.of() : List.of(origins.split(" ")),
                membershipOf(pod));
    }

    /** The workshop a session Pod belongs to, and to whom in it; null for a session of nobody's workshop. */
    static Membership membershipOf(V1Pod pod) {
        V1ObjectMeta meta = pod.getMetadata();
        String workshop = meta.getLabels() == null ? null : meta.getLabels().get(Labels.WORKSHOP);
        if (workshop == null) {
            return null;
        }
        String attendee =
                meta.getAnnotations() == null ? null : meta.getAnnotations().get(Labels.A_ATTENDEE);
        return Membership.pool(workshop).handedTo(attendee);
    }

    static Instant instant(V1Pod pod, String annotation, Instant fallback) {
        try {
            String v = pod.getMetadata().getAnnotations() == null
                    ? null
                    : pod.getMetadata().getAnnotations().get(annotation);
            return v == null ? fallback : Instant.parse(v);
        } catch (RuntimeException e) {
            return fallback;
        }
    }
}
