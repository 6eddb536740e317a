package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * answers: RBAC against the Role {@code kubectl kustomize deploy/base} renders (for the portal's requests, which the
 * test's watch bridge marks; the test's own stand-ins act as the cluster and are not checked), and the RuntimeClass
 * admission plugin's overhead rule. A refusal is the 403 {@code Status} a real server sends, with its message.
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

    ApiServerRules(List<V1PolicyRule> role) {
        this.role = role;
    }

    /** The rules of the Role in {@code deploy/base}, rendered by kubectl as an operator would apply it. */
    static List<V1PolicyRule> deployedRole() {
        if (deployedRole == null) {
            String kubectl = Parts.requireKubectl();
            try {
                Process p = new ProcessBuilder(kubectl, "kustomize", "deploy/base").redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("kubectl kustomize deploy/base failed");
                }
                deployedRole = Yaml.loadAll(yaml).stream().filter(V1Role.class::isInstance).map(V1Role.class::cast)
                        .filter(r -> "ferry".equals(r.getMetadata().getName())).findFirst()
                        .orElseThrow(() -> new IllegalStateException("deploy/base renders no Role ferry")).getRules();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return deployedRole;
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
                return forbidden(target, "User \"" + SERVICE_ACCOUNT + "\" cannot " + target.verb() + " resource \""
                        + target.resource() + "\" in API group \"" + target.group() + "\" in the namespace \"" + target.namespace() + "\"");
            }
        }
        if ("create".equals(target.verb()) && (target.groupResource().equals("/pods") || target.groupResource().equals("batch/jobs"))) {
            return overhead(request, target);
        }
        return null;
    }

    /**
     * The RuntimeClass admission plugin (Kubernetes 1.30 and older): a Pod with {@code overhead} set, even to
     * {@code {}}, and no {@code runtimeClassName} is refused. For a Job the real server refuses the Pod its controller
     * creates (a {@code FailedCreate} event, and the build waits for its timeout); the double refuses the Job at once.
     */
    private static MockResponse overhead(RecordedRequest request, Target target) {
        JsonNode body = JsonMapper.builder().build().readTree(
                new String(request.getBody().getBytes(), StandardCharsets.UTF_8)); // getUtf8Body() would consume it
        JsonNode spec = target.resource().equals("jobs") ? body.path("spec").path("template").path("spec") : body.path("spec");
        if (spec.has("overhead") && !spec.get("overhead").isNull()
                && (!spec.has("runtimeClassName") || spec.get("runtimeClassName").isNull())) {
            String name = body.path("metadata").path("name").asString("");
            return forbidden(new Target(target.verb(), target.group(), target.resource(), target.namespace(), name),
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
        if (!"POST".equals(request.getMethod()) || path == null
                || !path.replaceAll("\\?.*$", "").equals("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")) {
            return null;
        }
        tools.jackson.databind.node.ObjectNode review = (tools.jackson.databind.node.ObjectNode) JsonMapper.builder().build()
                .readTree(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
        JsonNode attributes = review.path("spec").path("resourceAttributes");
        if (attributes.isMissingNode() || attributes.isNull()) {
            return status(400, "BadRequest", "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: "
                    + "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified");
        }
        String subresource = attributes.path("subresource").asString("");
        String name = attributes.path("name").asString("");
        Target target = new Target(attributes.path("verb").asString(""), attributes.path("group").asString(""),
                attributes.path("resource").asString("") + (subresource.isEmpty() ? "" : "/" + subresource),
                attributes.path("namespace").asString(""), name.isEmpty() ? null : name);
        boolean allowed = allowed(target);
        var status = review.putObject("status");
        status.put("allowed", allowed);
        if (allowed) {
            String account = SERVICE_ACCOUNT.substring(SERVICE_ACCOUNT.lastIndexOf(':') + 1);
            status.put("reason", "RBAC: allowed by RoleBinding \"ferry/" + KubeApiDouble.NAMESPACE + "\" of Role \"ferry\" to "
                    + "ServiceAccount \"" + account + "/" + KubeApiDouble.NAMESPACE + "\"");
        }
        review.putObject("metadata").put("creationTimestamp", (String) null);
        return new MockResponse().setResponseCode(201).setHeader("Content-Type", "application/json")
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
            return status(501, "NotImplemented", "the API double answers dry runs of creates only, not " + request.getMethod());
        }
        tools.jackson.databind.node.ObjectNode body = (tools.jackson.databind.node.ObjectNode) JsonMapper.builder().build()
                .readTree(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
        Target target = Target.of(request.getMethod(), path);
        var metadata = body.has("metadata") && body.get("metadata").isObject()
                ? (tools.jackson.databind.node.ObjectNode) body.get("metadata") : body.putObject("metadata");
        if (target != null && target.namespace() != null) {
            metadata.put("namespace", target.namespace());
        }
        metadata.put("uid", java.util.UUID.randomUUID().toString());
        metadata.put("creationTimestamp", java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        dryRuns.add(target == null ? path : target.verb() + " " + target.groupResource() + " "
                + metadata.path("name").asString(""));
        return new MockResponse().setResponseCode(201).setHeader("Content-Type", "application/json")
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
        String message = target != null && "create".equals(target.verb()) ? webhookDenials.get(target.groupResource()) : null;
        return message == null ? null
                : status(403, "Forbidden", "admission webhook \"" + webhookName + "\" denied the request: " + message);
    }

    private static MockResponse status(int code, String reason, String message) {
        String body = JsonMapper.builder().build().writeValueAsString(java.util.Map.of(
                "kind", "Status", "apiVersion", "v1", "metadata", java.util.Map.of(), "status", "Failure",
                "message", message, "reason", reason, "code", code));
        return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(body);
    }

    private boolean allowed(Target t) {
        if (!KubeApiDouble.NAMESPACE.equals(t.namespace())) {
            return false; // a Role grants nothing outside its namespace, nor cluster-scoped resources
        }
        for (V1PolicyRule rule : role) {
            boolean names = rule.getResourceNames() == null || rule.getResourceNames().isEmpty()
                    || (t.name() != null && rule.getResourceNames().contains(t.name()));
            if (rule.getApiGroups().contains(t.group()) && rule.getResources().contains(t.resource())
                    && rule.getVerbs().contains(t.verb()) && names) {
                return true;
            }
        }
        return false;
    }

    private static MockResponse forbidden(Target t, String why) {
        String kind = t.resource();
        String message = kind + (t.name() == null || t.name().isEmpty() ? "" : " \"" + t.name() + "\"") + " is forbidden: " + why;
        String body = JsonMapper.builder().build().writeValueAsString(java.util.Map.of(
                "kind", "Status", "apiVersion", "v1", "metadata", java.util.Map.of(), "status", "Failure",
                "message", message, "reason", "Forbidden", "code", 403,
                "details", java.util.Map.of("name", t.name() == null ? "" : t.name(), "kind", kind)));
        return new MockResponse().setResponseCode(403).setHeader("Content-Type", "application/json").setBody(body);
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
