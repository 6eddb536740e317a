package dev.ferry.platform.kubernetes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AuthorizationV1Api;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1ResourceAttributes;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReviewSpec;

import dev.ferry.build.ImageKey;

/**
 * Whether the cluster will take what Ferry sends, asked with the portal's own credentials and settings: every verb of
 * {@link KubePermissions} ({@code SelfSubjectAccessReview}); the session Pod, the build Job and the Pod its controller
 * would make of it, created with server-side dry run (admission runs — Pod Security, quotas, policy webhooks, the
 * RuntimeClass rule — and nothing is stored); the registry answering, and accepting the push credentials. Each check
 * is a {@link Row} that says, when it fails, what to fix.
 */
final class ClusterCheck {

    /** One check: what was checked, whether it passed, and (when not) a sentence saying what to fix. */
    record Row(String check, boolean passed, String fix) {

        static Row pass(String check) {
            return new Row(check, true, "");
        }

        static Row fail(String check, String fix) {
            return new Row(check, false, fix);
        }
    }

    /**
     * The push credentials, for the push check.
     *
     * @param secretName the Secret build Jobs mount ({@code ferry.kubernetes.build.push-secret}); empty: none
     * @param username   its user for the registry, null when the check cannot read them (the portal's account may
     *                   not read Secrets: the command reads them from a file)
     */
    record PushCredentials(String secretName, String username, String password) {

        static PushCredentials unread(String secretName) {
            return new PushCredentials(secretName, null, null);
        }

        boolean known() {
            return secretName.isBlank() || username != null;
        }
    }

    private final KubeApi api;
    private final SessionPods pods;
    private final BuildJobs jobs;
    private final RegistryProperties registry;
    private final String publicUrl;
    private final Duration buildTimeout;

    ClusterCheck(
            KubeApi api,
            SessionPods pods,
            BuildJobs jobs,
            RegistryProperties registry,
            String publicUrl,
            Duration buildTimeout) {
        this.api = api;
        this.pods = pods;
        this.jobs = jobs;
        this.registry = registry;
        this.publicUrl = publicUrl;
        this.buildTimeout = buildTimeout;
    }

    /** Every check; {@code push} null: the push check is left out (at start, where the portal has no push credentials). */
    List<Row> run(PushCredentials push) {
        List<Row> rows = new ArrayList<>(permissions());
        if (rows.stream().noneMatch(r -> r.check().equals(API))) { // no API server: nothing more to ask it
            rows.addAll(dryRuns());
        }
        rows.add(registryAnswers());
        if (push != null) {
            rows.add(pushAccepted(push));
        }
        return rows;
    }

    private static final String API = "the Kubernetes API server answers";

    List<Row> permissions() {
        List<Row> rows = new ArrayList<>();
        AuthorizationV1Api authorization = new AuthorizationV1Api(api.client);
        for (KubePermissions.Access access : KubePermissions.accesses()) {
            for (String namespace : namespacesOf(access.rule())) {
                try {
                    rows.add(permission(authorization, access, namespace));
                } catch (ApiException e) { // no answer at all: the other questions would get none either
                    return List.of(
                            Row.fail(
                                    API,
                                    capitalized(KubeApi.describe(e)) + ". Check that the portal runs "
                                            + "in the cluster, or set ferry.kubernetes.kubeconfig or ferry.kubernetes.api-url."));
                }
            }
        }
        return rows;
    }

    /**
     * The namespaces Ferry uses {@code rule}'s resource in: session and build Pods (and their events) each in their
     * own, Jobs and build logs in the builds', workshops' ConfigMaps and the Lease in Ferry's own. One namespace when
     * they are all the same.
     */
    private Set<String> namespacesOf(KubePermissions.Rule rule) {
        Set<String> in = new LinkedHashSet<>();
        switch (rule.resource()) {
            case "pods", "events" -> {
                in.add(api.sessionsNamespace);
                in.add(api.buildsNamespace);
            }
            case "pods/log", "jobs" -> in.add(api.buildsNamespace);
            default -> in.add(api.namespace);
        }
        return in;
    }

    /** One verb asked in one namespace; an {@link ApiException} when the API server cannot be reached at all. */
    private Row permission(AuthorizationV1Api authorization, KubePermissions.Access access, String namespace)
            throws ApiException {
        String check = "may " + access.describe() + " in namespace " + namespace;
        var attributes = new V1ResourceAttributes()
                .namespace(namespace)
                .verb(access.verb())
                .group(access.rule().group())
                .resource(access.rule().resourceOnly());
        if (!access.rule().subresource().isEmpty()) {
            attributes.subresource(access.rule().subresource());
        }
        try {
            var review = authorization
                    .createSelfSubjectAccessReview(new V1SelfSubjectAccessReview()
                            .apiVersion("authorization.k8s.io/v1")
                            .kind("SelfSubjectAccessReview")
                            .spec(new V1SelfSubjectAccessReviewSpec().resourceAttributes(attributes)))
                    .execute();
            boolean allowed = review.getStatus() != null
                    && Boolean.TRUE.equals(review.getStatus().getAllowed());
            return allowed
                    ? Row.pass(check)
                    : Row.fail(
                            check,
                            "The service account Ferry runs as may not "
                                    + access.describe() + " in namespace " + namespace + "; Ferry needs it to "
                                    + access.rule().why() + ". Add \"" + access.verb() + "\" to the rule for "
                                    + access.rule().resource() + " in Ferry's Role "
                                    + (namespace.equals(api.namespace)
                                            ? "(deploy/base/role.yaml)"
                                            : "in that namespace (deploy/overlays/namespaces)")
                                    + " and apply it.");
        } catch (ApiException e) {
            if (e.getCode() == 0) {
                throw e;
            }
            return Row.fail(
                    check,
                    "Ferry could not ask whether it may " + access.describe() + " in namespace " + namespace + ": "
                            + KubeApi.describe(e) + ".");
        }
    }

    List<Row> dryRuns() {
        V1Pod session = SampleLaunch.sessionPod(pods, jobs, publicUrl);
        V1Job job = SampleLaunch.buildJob(jobs, buildTimeout);
        List<Row> rows = new ArrayList<>();
        rows.add(dryRun(
                "the API server accepts a session Pod (dry run)",
                "session Pod",
                () -> api.core()
                        .createNamespacedPod(api.sessionsNamespace, session)
                        .dryRun("All")
                        .execute()));
        rows.add(dryRun(
                "the API server accepts a build Job (dry run)",
                "build Job",
                () -> api.batch()
                        .createNamespacedJob(api.buildsNamespace, job)
                        .dryRun("All")
                        .execute()));
        // Admission of a Job does not judge its Pods (Pod Security enforces on Pods): the Pod the Job controller would
        // create is asked about as well, or a refusal would show only as the Job's FailedCreate events
        V1Pod buildPod = buildPod(job);
        rows.add(dryRun(
                "the API server accepts the build Job's Pod (dry run)",
                "build Pod",
                () -> api.core()
                        .createNamespacedPod(api.buildsNamespace, buildPod)
                        .dryRun("All")
                        .execute()));
        return rows;
    }

    /** The Pod the Job controller would create from the Job's template (its labels, annotations and spec). */
    static V1Pod buildPod(V1Job job) {
        V1ObjectMeta template = job.getSpec().getTemplate().getMetadata();
        Map<String, String> labels = new LinkedHashMap<>(template.getLabels());
        labels.put("batch.kubernetes.io/job-name", job.getMetadata().getName());
        labels.put("job-name", job.getMetadata().getName());
        return new V1Pod()
                .apiVersion("v1")
                .kind("Pod")
                .metadata(new V1ObjectMeta()
                        .name(job.getMetadata().getName() + "-dryrun")
                        .labels(labels)
                        .annotations(template.getAnnotations()))
                .spec(job.getSpec().getTemplate().getSpec());
    }

    private interface Call {
        void run() throws ApiException;
    }

    private Row dryRun(String check, String what, Call call) {
        try {
            call.run();
            return Row.pass(check);
        } catch (ApiException e) {
            return Row.fail(
                    check,
                    "The API server refused the " + what + " Ferry would create: " + KubeApi.describe(e) + ". "
                            + hint(e, what) + " (java -jar ferry.jar manifests prints it.)");
        }
    }

    /** What an operator can do about a refusal, from what the API server said. */
    static String hint(ApiException e, String what) {
        String said = String.valueOf(e.getResponseBody());
        if (e.getCode() == 0) {
            return "Check that the API server is reachable from here.";
        }
        if (said.contains("violates PodSecurity")) {
            return "The namespace's Pod Security level (label pod-security.kubernetes.io/enforce) forbids it: run "
                    + (what.startsWith("build") ? "builds" : "sessions") + " in a namespace whose level allows it "
                    + "(docs/kubernetes.md).";
        }
        if (said.contains("exceeded quota") || said.contains("must specify")) {
            return "A ResourceQuota or LimitRange of the namespace refuses it: raise the quota, or lower the requests "
                    + "and limits in ferry.kubernetes." + (what.startsWith("build") ? "build" : "session") + ".*.";
        }
        if (said.contains("admission webhook")) {
            return "A policy of the cluster (the webhook named above) refuses it: change the policy, or the setting "
                    + "of Ferry that produces what it refuses.";
        }
        if (said.contains("Pod Overhead")) {
            return "This version of Ferry sends a Pod the RuntimeClass admission refuses: upgrade Ferry.";
        }
        if (e.getCode() == 403) {
            return "Ferry's Role must allow it (see the permission checks above).";
        }
        if (e.getCode() == 404) {
            return "Create the namespace, or set ferry.kubernetes.namespace to Ferry's.";
        }
        return "Change the setting of Ferry that produces what the API server refuses.";
    }

    Row registryAnswers() {
        String check = "the registry answers the \"already built?\" check (ferry.registry.*)";
        try {
            ImageKey key = ImageKey.of(SampleLaunch.repo());
            new RegistryClient(registry).exists(registry.repository(key.slug()), key.commit());
            return Row.pass(check);
        } catch (RegistryException | IllegalArgumentException | IllegalStateException e) {
            return Row.fail(check, e.getMessage());
        }
    }

    Row pushAccepted(PushCredentials push) {
        String secret = push.secretName().isBlank() ? "" : " (Secret " + push.secretName() + ")";
        String check = "the registry accepts pushes with the push credentials" + secret;
        if (!push.known()) {
            return Row.fail(
                    check,
                    "Not checked: Ferry's own account may not read Secrets (build Pods mount "
                            + push.secretName()
                            + " themselves). Run check-cluster with --push-config=<file> naming the "
                            + "Secret's .dockerconfigjson (kubectl get secret " + push.secretName()
                            + " -o jsonpath='{.data.\\.dockerconfigjson}' | base64 -d > push.json), or as the Job in "
                            + "deploy/check, which mounts it.");
        }
        try {
            RegistryProperties pushing = new RegistryProperties(
                    registry.prefix(),
                    registry.url(),
                    registry.insecure(),
                    push.username() == null ? "" : push.username(),
                    push.password() == null ? "" : push.password());
            String source = push.secretName().isBlank()
                    ? "ferry.kubernetes.build.push-secret (none is set: builds push anonymously)"
                    : "the credentials in the Secret " + push.secretName();
            ImageKey key = ImageKey.of(SampleLaunch.repo());
            new RegistryClient(pushing, source).checkPush(registry.repository(key.slug()));
            return Row.pass(check);
        } catch (RegistryException | IllegalArgumentException | IllegalStateException e) {
            return Row.fail(check, e.getMessage());
        }
    }

    /** The table an operator reads: one line per check, the fix under each failed one, and a last line. */
    static String table(List<Row> rows) {
        StringBuilder out = new StringBuilder();
        for (Row row : rows) {
            out.append(row.passed() ? "PASS  " : "FAIL  ").append(row.check()).append('\n');
            if (!row.passed()) {
                out.append("      ").append(row.fix()).append('\n');
            }
        }
        long passed = rows.stream().filter(Row::passed).count();
        out.append(
                passed == rows.size()
                        ? "All " + rows.size() + " checks passed.\n"
                        : (rows.size() - passed) + " of " + rows.size()
                                + " checks failed: fix what each FAIL says, then run " + "check-cluster again.\n");
        return out.toString();
    }

    private static String capitalized(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
