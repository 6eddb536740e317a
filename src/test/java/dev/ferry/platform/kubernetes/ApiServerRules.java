package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.util.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.testing.Parts;

/**
 * Rules a real API server enforces and fabric8's mock does not, applied by {@link KubeApiDouble} before the mock
 * answers: RBAC against the Role {@code kubectl kustomize deploy/base} renders and strict decoding of request bodies
 * against the API's schema ({@link ApiSchema}) for the portal's requests, which the test's watch bridge marks (the
 * test's own stand-ins act as the cluster and are not checked); for every Pod created, the RuntimeClass admission
 * plugin's overhead rule and Pod Security admission by the namespace's label ({@link PodSecurity}); a Job's restart
 * policy; and the defaults the server writes into what it stores ({@link ApiDefaults}). A refusal is the
 * {@code Status} a real server sends, with its code, reason and message.
 */
final class ApiServerRules {

    /** Set on the portal's requests by {@link KubeApiDouble#watchBridge()}: whose requests RBAC applies to. */
    static final String PORTAL = "X-Ferry-Test-Portal";

    static final String SERVICE_ACCOUNT = "system:serviceaccount:" + KubeApiDouble.NAMESPACE + ":ferry";

    private static volatile List<V1PolicyRule> deployedRole;

    private final List<V1PolicyRule> role;
    /** Every {@code verb group/resource} the portal asked for, allowed or not. */
    final Set<String> used = ConcurrentHashMap.newKeySet();
    /** The portal's requests the Role refused. */
    final Set<String> refused = ConcurrentHashMap.newKeySet();
    /** Roles granted by namespace, in place of {@link #role} (e.g. those of deploy/overlays/namespaces). */
    private final Map<String, List<V1PolicyRule>> grants = new ConcurrentHashMap<>();
    /** The labels of each namespace, as the double stored them (Pod Security admission reads them). */
    private final Map<String, Map<String, String>> namespaceLabels = new ConcurrentHashMap<>();

    private final java.util.concurrent.atomic.AtomicLong newestResourceVersion =
            new java.util.concurrent.atomic.AtomicLong();
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    ApiServerRules(List<V1PolicyRule> role) {
        this.role = role;
    }

    /** The rules of the Role in {@code deploy/base}, rendered by kubectl as an operator would apply it. */
    static List<V1PolicyRule> deployedRole() {
        if (deployedRole == null) {
            String kubectl = Parts.requireKubectl();
            try {
                Process p = new ProcessBuilder(kubectl, "kustomize", "deploy/base")
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("kubectl kustomize deploy/base failed");
                }
                deployedRole = Yaml.loadAll(yaml).stream()
                        .filter(V1Role.class::isInstance)
                        .map(V1Role.class::cast)
                        .filter(r -> "ferry".equals(r.getMetadata().getName()))
                        .findFirst()
                        .orElseThrow(() -> new IllegalStateException("deploy/base renders no Role ferry"))
                        .getRules();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return deployedRole;
    }

    /** The Role of {@code deploy/base} with {@code verb} taken out of the rule that grants {@code resource}. */
    static List<V1PolicyRule> deployedRoleWithout(String resource, String verb) {
        return deployedRole().stream()
                .map(r -> r.getResources().contains(resource)
                        ? new V1PolicyRule()
                                .apiGroups(r.getApiGroups())
                                .resources(r.getResources())
                                .verbs(r.getVerbs().stream()
                                        .filter(v -> !v.equals(verb))
                                        .toList())
                        : r)
                .toList();
    }

    /** From now on the portal may do in {@code namespace} what {@code rules} grant, and nothing else there. */
    void grant(String namespace, List<V1PolicyRule> rules) {
        grants.put(namespace, rules);
    }

    /**
     * The rules of every Role a kustomization renders, by namespace ({@code overlayNamespace} for the Roles of the
     * portal's own namespace, which the test's double calls {@link KubeApiDouble#NAMESPACE}).
     */
    static java.util.Map<String, List<V1PolicyRule>> renderedRoles(String dir, String overlayNamespace) {
        String kubectl = Parts.requireKubectl();
        try {
            Process p = new ProcessBuilder(kubectl, "kustomize", dir)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("kubectl kustomize " + dir + " failed");
            }
            java.util.Map<String, List<V1PolicyRule>> roles = new java.util.HashMap<>();
            Yaml.loadAll(yaml).stream()
                    .filter(V1Role.class::isInstance)
                    .map(V1Role.class::cast)
                    .forEach(r -> {
                        String ns = r.getMetadata().getNamespace();
                        roles.put(overlayNamespace.equals(ns) ? KubeApiDouble.NAMESPACE : ns, r.getRules());
                    });
            return roles;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The refusal a real API server would answer {@code request} with, or null to let the mock answer. */
    MockResponse refusal(RecordedRequest request) {
        Target target = Target.of(request.getMethod(), request.getPath());
        if (target == null) {
            return null; // discovery (/version, /api, /apis): every authenticated user may
        }
        if (request.getHeader(PORTAL) != null) {
            used.add(target.verb() + " " + target.groupResource());
            if (!allowed(target)) {
                refused.add(target.verb() + " " + target.groupResource());
                return forbidden(
                        target,
                        "User \"" + SERVICE_ACCOUNT + "\" cannot " + target.verb() + " resource \""
                                + target.resource() + "\" in API group \"" + target.group() + "\" "
                                + (target.namespace() == null
                                        ? "at the cluster scope"
                                        : "in the namespace \"" + target.namespace() + "\""));
            }
        }
        if (request.getHeader(PORTAL) != null) {
            MockResponse undecodable = strictFields(request, target);
            if (undecodable != null) {
                return undecodable;
            }
        }
        if ("create".equals(target.verb()) && target.groupResource().equals("/pods")) {
            JsonNode pod = json(request);
            MockResponse refused = overhead(pod, target);
            return refused != null ? refused : podSecurity(pod, target);
        }
        if ("create".equals(target.verb()) && target.groupResource().equals("batch/jobs")) {
            return jobTemplate(json(request), target);
        }
        return null;
    }

    /**
     * {@code fieldValidation=Strict}: a body with a field the API does not have where it stands, or a value of the
     * wrong type, is refused with 400 and the decoder's words. A real server's default ({@code Warn}) drops such a
     * field with a warning instead; the double refuses it, because a setting the server drops is lost without a trace.
     */
    private static MockResponse strictFields(RecordedRequest request, Target target) {
        boolean write = switch (target.verb()) {
            case "create", "update", "patch" -> true;
            default -> false;
        };
        boolean delete = target.verb().startsWith("delete")
                && request.getBody() != null
                && request.getBody().size() > 0;
        if (!write && !delete) {
            return null;
        }
        ApiSchema.Model model = ApiSchema.model(target.groupResource());
        if (!delete && model == null) {
            return null;
        }
        JsonNode body;
        try {
            body = json(request);
        } catch (RuntimeException e) {
            return null; // not JSON (a YAML apply patch): not what Ferry sends
        }
        if (!body.isObject()) {
            return null; // a JSON patch (a list of operations)
        }
        boolean patch = target.verb().equals("patch");
        java.util.List<String> problems =
                ApiSchema.problems(body, delete ? ApiSchema.deleteOptions() : model.type(), patch);
        if (problems.isEmpty()) {
            return null;
        }
        String strict = problems.stream().anyMatch(p -> p.startsWith("json:"))
                ? problems.stream()
                        .filter(p -> p.startsWith("json:"))
                        .findFirst()
                        .orElseThrow()
                : "strict decoding error: " + String.join(", ", problems);
        String message = patch || delete
                ? strict
                : model.kind() + " in version \"" + model.groupVersion().replaceFirst(".*/", "")
                        + "\" cannot be handled as a " + model.kind() + ": " + strict;
        return status(400, "BadRequest", message, target.name(), target.resource());
    }

    /** Pod Security admission: the namespace's {@code enforce} label against the Pod; 403 with the plugin's words. */
    private MockResponse podSecurity(JsonNode pod, Target target) {
        Map<String, String> labels = namespaceLabels.getOrDefault(target.namespace(), Map.of());
        String why = PodSecurity.refusal(labels, pod.path("metadata"), pod.path("spec"));
        if (why == null) {
            return null;
        }
        return forbidden(
                new Target(target.verb(), target.group(), target.resource(), target.namespace(), podName(pod)), why);
    }

    /** Validation of a Job: its Pods may only restart Never or OnFailure (after defaulting, Always when unset). */
    private static MockResponse jobTemplate(JsonNode job, Target target) {
        String policy = job.path("spec")
                .path("template")
                .path("spec")
                .path("restartPolicy")
                .asString("Always");
        if (policy.equals("Never") || policy.equals("OnFailure")) {
            return null;
        }
        String name = job.path("metadata").path("name").asString("");
        return status(
                422,
                "Invalid",
                "Job.batch \"" + name + "\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \""
                        + policy + "\": supported values: \"OnFailure\", \"Never\"",
                name,
                "jobs");
    }

    /**
     * The request as the API server stores it: a created Pod or Job with the server's defaults written in. Null when
     * the request is stored as sent.
     */
    RecordedRequest defaulted(RecordedRequest request) {
        Target target = Target.of(request.getMethod(), request.getPath());
        if (target == null || !"create".equals(target.verb())) {
            return null;
        }
        boolean pod = target.groupResource().equals("/pods");
        if (!pod && !target.groupResource().equals("batch/jobs")) {
            return null;
        }
        JsonNode body;
        try {
            body = json(request);
        } catch (RuntimeException e) {
            return null;
        }
        if (!(body instanceof tools.jackson.databind.node.ObjectNode object)) {
            return null;
        }
        if (pod) {
            ApiDefaults.pod(object);
        } else {
            ApiDefaults.job(object);
        }
        byte[] bytes = MAPPER.writeValueAsBytes(object);
        return new RecordedRequest(
                request.getHttpVersion(),
                request.method(),
                request.getPath(),
                request.getHeaders(),
                new io.fabric8.mockwebserver.http.Buffer(bytes));
    }

    /**
     * What the API server now holds, from its answer: the namespaces' labels, the newest resourceVersion. A list is
     * answered, as by a real server, with the newest resourceVersion in its metadata (where a watch may start from).
     */
    MockResponse observe(RecordedRequest request, MockResponse response) {
        Target target = Target.of(request.getMethod(), request.getPath());
        if (target == null || response == null || response.code() / 100 != 2 || response.getBody() == null) {
            return response;
        }
        JsonNode body;
        try {
            body = MAPPER.readTree(new String(response.getBody().getBytes(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return response;
        }
        resourceVersion(body.path("metadata"));
        body.path("items").forEach(item -> resourceVersion(item.path("metadata")));
        if (target.verb().equals("list")
                && body.path("metadata") instanceof tools.jackson.databind.node.ObjectNode meta) {
            meta.put("resourceVersion", String.valueOf(newestResourceVersion.get()));
            response.setBody(MAPPER.writeValueAsString(body));
        }
        if (target.groupResource().equals("/namespaces")
                && !target.verb().equals("get")
                && !target.verb().equals("list")
                && !target.verb().equals("watch")) {
            String name = body.path("metadata").path("name").asString(target.name());
            if (name == null) {
                return response;
            }
            if (target.verb().startsWith("delete")) {
                namespaceLabels.remove(name);
            } else {
                Map<String, String> labels = new java.util.HashMap<>();
                body.path("metadata")
                        .path("labels")
                        .properties()
                        .forEach(e -> labels.put(e.getKey(), e.getValue().asString("")));
                namespaceLabels.put(name, Map.copyOf(labels));
            }
        }
        return response;
    }

    private void resourceVersion(JsonNode metadata) {
        String rv = metadata.path("resourceVersion").asString("");
        if (rv.matches("\\d{1,18}")) {
            newestResourceVersion.accumulateAndGet(Long.parseLong(rv), Math::max);
        }
    }

    /** The newest resourceVersion the double has handed out, as far as its answers showed it. */
    long newestResourceVersion() {
        return newestResourceVersion.get();
    }

    private static String podName(JsonNode pod) {
        String name = pod.path("metadata").path("name").asString("");
        return name.isEmpty() ? pod.path("metadata").path("generateName").asString("") : name;
    }

    private static JsonNode json(RecordedRequest request) {
        return MAPPER.readTree(
                new String(request.getBody().getBytes(), StandardCharsets.UTF_8)); // getUtf8Body() would consume it
    }

    /**
     * The RuntimeClass admission plugin (Kubernetes 1.30 and older): a Pod with {@code overhead} set, even to
     * {@code {}}, and no {@code runtimeClassName} is refused. A Job with such a template is stored; its controller's
     * Pod is refused (a {@code FailedCreate} event), as on a real cluster.
     */
    private static MockResponse overhead(JsonNode body, Target target) {
        JsonNode spec = body.path("spec");
        if (spec.has("overhead")
                && !spec.get("overhead").isNull()
                && (!spec.has("runtimeClassName")
                        || spec.get("runtimeClassName").isNull())) {
            return forbidden(
                    new Target(target.verb(), target.group(), target.resource(), target.namespace(), podName(body)),
                    "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead");
        }
        return null;
    }

    /**
     * A {@code SelfSubjectAccessReview} ({@code POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews}), which
     * every authenticated user may create (the {@code system:basic-user} ClusterRole): answered from the Role this
     * double enforces, as the RBAC authorizer would for the portal's service account; null for any other request.
     */
    MockResponse accessReview(RecordedRequest request) {
        String path = request.getPath();
        if (!"POST".equals(request.getMethod())
                || path == null
                || !path.replaceAll("\\?.*$", "").equals("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")) {
            return null;
        }
        tools.jackson.databind.node.ObjectNode review = (tools.jackson.databind.node.ObjectNode) JsonMapper.builder()
                .build()
                .readTree(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
        JsonNode attributes = review.path("spec").path("resourceAttributes");
        if (attributes.isMissingNode() || attributes.isNull()) {
            return status(
                    400,
                    "BadRequest",
                    "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: "
                            + "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified");
        }
        String subresource = attributes.path("subresource").asString("");
        String name = attributes.path("name").asString("");
        Target target = new Target(
                attributes.path("verb").asString(""),
                attributes.path("group").asString(""),
                attributes.path("resource").asString("") + (subresource.isEmpty() ? "" : "/" + subresource),
                attributes.path("namespace").asString(""),
                name.isEmpty() ? null : name);
        boolean allowed = allowed(target);
        var status = review.putObject("status");
        status.put("allowed", allowed);
        if (allowed) {
            String account = SERVICE_ACCOUNT.substring(SERVICE_ACCOUNT.lastIndexOf(':') + 1);
            status.put(
                    "reason",
                    "RBAC: allowed by RoleBinding \"ferry/" + KubeApiDouble.NAMESPACE + "\" of Role \"ferry\" to "
                            + "ServiceAccount \"" + account + "/" + KubeApiDouble.NAMESPACE + "\"");
        }
        review.putObject("metadata").put("creationTimestamp", (String) null);
        return new MockResponse()
                .setResponseCode(201)
                .setHeader("Content-Type", "application/json")
                .setBody(JsonMapper.builder().build().writeValueAsString(review));
    }

    /**
     * Server-side dry run ({@code ?dryRun=All}) of a create: answered here, after RBAC and admission let it through
     * ({@link #refusal}, {@link #webhookRefusal}), with the object as the server would return it, and nothing stored.
     * A dry run of another verb, or with another value, is refused rather than silently applied; null when the request
     * is no dry run.
     */
    MockResponse dryRun(RecordedRequest request) {
        String path = request.getPath();
        int q = path == null ? -1 : path.indexOf('?');
        if (q < 0) {
            return null;
        }
        String dryRun = null;
        for (String pair : path.substring(q + 1).split("&")) {
            if (pair.startsWith("dryRun=")) {
                dryRun = java.net.URLDecoder.decode(pair.substring("dryRun=".length()), StandardCharsets.UTF_8);
            }
        }
        if (dryRun == null) {
            return null;
        }
        if (!dryRun.equals("All")) {
            return status(400, "BadRequest", "Invalid value: \"" + dryRun + "\": valid values are: All");
        }
        if (!"POST".equals(request.getMethod())) {
            return status(
                    501,
                    "NotImplemented",
                    "the API double answers dry runs of creates only, not " + request.getMethod());
        }
        tools.jackson.databind.node.ObjectNode body = (tools.jackson.databind.node.ObjectNode) JsonMapper.builder()
                .build()
                .readTree(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
        Target target = Target.of(request.getMethod(), path);
        var metadata = body.has("metadata") && body.get("metadata").isObject()
                ? (tools.jackson.databind.node.ObjectNode) body.get("metadata")
                : body.putObject("metadata");
        if (target != null && target.namespace() != null) {
            metadata.put("namespace", target.namespace());
        }
        metadata.put("uid", java.util.UUID.randomUUID().toString());
        metadata.put(
                "creationTimestamp",
                java.time.Instant.now()
                        .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                        .toString());
        dryRuns.add(
                target == null
                        ? path
                        : target.verb() + " " + target.groupResource() + " "
                                + metadata.path("name").asString(""));
        return new MockResponse()
                .setResponseCode(201)
                .setHeader("Content-Type", "application/json")
                .setBody(JsonMapper.builder().build().writeValueAsString(body));
    }

    /** Dry runs this double answered ({@code create /pods <name>}): a test sees that they came, and were not stored. */
    final Set<String> dryRuns = ConcurrentHashMap.newKeySet();

    private final java.util.Map<String, String> webhookDenials = new ConcurrentHashMap<>();
    private volatile String webhookName;

    /**
     * From now on a validating admission webhook named {@code webhook} (an operator's policy engine: Kyverno,
     * Gatekeeper) denies every create of {@code groupResource} ({@code /pods}, {@code batch/jobs}) with this message,
     * as the API server relays a denial whose webhook set no code: 403 and
     * {@code admission webhook "<name>" denied the request: <message>}.
     */
    void denyByWebhook(String webhook, String groupResource, String message) {
        webhookName = webhook;
        webhookDenials.put(groupResource, message);
    }

    /** The denial of {@link #denyByWebhook}'s webhook for this request, or null. Dry runs are admitted alike. */
    MockResponse webhookRefusal(RecordedRequest request) {
        if (webhookDenials.isEmpty() || request.getPath() == null) {
            return null;
        }
        Target target = Target.of(request.getMethod(), request.getPath());
        String message =
                target != null && "create".equals(target.verb()) ? webhookDenials.get(target.groupResource()) : null;
        return message == null
                ? null
                : status(403, "Forbidden", "admission webhook \"" + webhookName + "\" denied the request: " + message);
    }

    private static MockResponse status(int code, String reason, String message) {
        return status(code, reason, message, Map.of());
    }

    private boolean allowed(Target t) {
        List<V1PolicyRule> rules = t.namespace() == null ? null : grants.get(t.namespace());
        if (rules == null && !KubeApiDouble.NAMESPACE.equals(t.namespace())) {
            return false; // a Role grants nothing outside its namespace, nor cluster-scoped resources
        }
        for (V1PolicyRule rule : rules != null ? rules : role) {
            boolean names = rule.getResourceNames() == null
                    || rule.getResourceNames().isEmpty()
                    || (t.name() != null && rule.getResourceNames().contains(t.name()));
            if (rule.getApiGroups().contains(t.group())
                    && rule.getResources().contains(t.resource())
                    && rule.getVerbs().contains(t.verb())
                    && names) {
                return true;
            }
        }
        return false;
    }

    private static MockResponse forbidden(Target t, String why) {
        String kind = t.resource();
        String message = kind + (t.name() == null || t.name().isEmpty() ? "" : " \"" + t.name() + "\"")
                + " is forbidden: " + why;
        return status(403, "Forbidden", message, t.name(), kind);
    }

    private static MockResponse status(int code, String reason, String message, String name, String kind) {
        return status(code, reason, message, Map.of("details", Map.of("name", name == null ? "" : name, "kind", kind)));
    }

    /**
     * A refusal as the API server answers it: a {@code Status} object with the code, reason and message, and
     * {@code more} fields (its {@code details}) where the server names what it refused.
     */
    private static MockResponse status(int code, String reason, String message, Map<String, Object> more) {
        Map<String, Object> status = new java.util.LinkedHashMap<>(Map.of(
                "kind",
                "Status",
                "apiVersion",
                "v1",
                "metadata",
                Map.of(),
                "status",
                "Failure",
                "message",
                message,
                "reason",
                reason,
                "code",
                code));
        status.putAll(more);
        return new MockResponse()
                .setResponseCode(code)
                .setHeader("Content-Type", "application/json")
                .setBody(MAPPER.writeValueAsString(status));
    }

    Set<String> used() {
        return new TreeSet<>(used);
    }

    /** One request as RBAC sees it: a verb on a resource (with subresource) of an API group, in a namespace. */
    record Target(String verb, String group, String resource, String namespace, String name) {

        String groupResource() {
            return group + "/" + resource;
        }

        static Target of(String method, String pathAndQuery) {
            int q = pathAndQuery.indexOf('?');
            String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
            boolean watch = q >= 0 && pathAndQuery.substring(q + 1).contains("watch=true");
            String[] p = path.replaceAll("^/+|/+$", "").split("/");
            int i;
            String group;
            if (p.length >= 2 && p[0].equals("api")) {
                group = "";
                i = 2;
            } else if (p.length >= 3 && p[0].equals("apis")) {
                group = p[1];
                i = 3;
            } else {
                return null;
            }
            if (p.length <= i) {
                return null; // discovery of a group version
            }
            String namespace = null;
            if (p[i].equals("namespaces") && p.length > i + 2) {
                namespace = p[i + 1];
                i += 2;
            }
            String resource = p[i];
            String name = p.length > i + 1 ? p[i + 1] : null;
            if (p.length > i + 2) {
                resource += "/" + p[i + 2]; // a subresource: pods/log, pods/status
            }
            String verb = switch (method) {
                case "GET" -> name != null ? "get" : watch ? "watch" : "list";
                case "POST" -> "create";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                case "DELETE" -> name != null ? "delete" : "deletecollection";
                default -> method.toLowerCase(java.util.Locale.ROOT);
            };
            return new Target(verb, group, resource, namespace, name);
        }
    }
}
