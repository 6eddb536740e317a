package dev.ferry.platform.kubernetes;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The defaults the API server writes into a Pod or Job it stores (k8s.io/kubernetes pkg/apis/core/v1/defaults.go and
 * batch/v1/defaults.go, and the ServiceAccount admission plugin's account), so that what Ferry reads back is what a
 * real cluster gives it: {@code imagePullPolicy} from the image's tag, the restart and DNS policies, the termination
 * message, probe timings, a Job's back-off limit. Only fields a request left unset are written.
 */
final class ApiDefaults {

    private ApiDefaults() {}

    /** Defaults a Pod's JSON in place. */
    static void pod(ObjectNode pod) {
        if (pod.path("spec") instanceof ObjectNode spec) {
            podSpec(spec);
        }
    }

    /** Defaults a Job's JSON in place, its Pod template included. */
    static void job(ObjectNode job) {
        if (!(job.path("spec") instanceof ObjectNode spec)) {
            return;
        }
        setIfMissing(spec, "parallelism", 1);
        setIfMissing(spec, "completions", 1);
        setIfMissing(spec, "backoffLimit", 6);
        setIfMissing(spec, "completionMode", "NonIndexed");
        setIfMissing(spec, "suspend", false);
        setIfMissing(spec, "podReplacementPolicy", "TerminatingOrFailed");
        if (spec.path("template").path("spec") instanceof ObjectNode podSpec) {
            podSpec(podSpec);
        }
    }

    private static void podSpec(ObjectNode spec) {
        setIfMissing(spec, "restartPolicy", "Always");
        setIfMissing(spec, "dnsPolicy", "ClusterFirst");
        setIfMissing(spec, "schedulerName", "default-scheduler");
        setIfMissing(spec, "terminationGracePeriodSeconds", 30);
        setIfMissing(spec, "enableServiceLinks", true);
        setIfMissing(spec, "serviceAccountName", "default");
        setIfMissing(spec, "serviceAccount", spec.path("serviceAccountName").asString());
        if (!spec.has("securityContext") || spec.get("securityContext").isNull()) {
            spec.putObject("securityContext");
        }
        for (String kind : new String[] {"initContainers", "containers"}) {
            spec.path(kind).forEach(c -> {
                if (c instanceof ObjectNode container) {
                    container(container);
                }
            });
        }
    }

    private static void container(ObjectNode c) {
        setIfMissing(c, "imagePullPolicy", pullPolicy(c.path("image").asString("")));
        setIfMissing(c, "terminationMessagePath", "/dev/termination-log");
        setIfMissing(c, "terminationMessagePolicy", "File");
        c.path("ports").forEach(p -> {
            if (p instanceof ObjectNode port) {
                setIfMissing(port, "protocol", "TCP");
            }
        });
        for (String probe : new String[] {"readinessProbe", "livenessProbe", "startupProbe"}) {
            if (c.path(probe) instanceof ObjectNode p) {
                setIfMissing(p, "timeoutSeconds", 1);
                setIfMissing(p, "periodSeconds", 10);
                setIfMissing(p, "successThreshold", 1);
                setIfMissing(p, "failureThreshold", 3);
                if (p.path("httpGet") instanceof ObjectNode http) {
                    setIfMissing(http, "scheme", "HTTP");
                }
            }
        }
        // requests default to the limits for each resource given a limit and no request
        if (c.path("resources") instanceof ObjectNode resources
                && resources.path("limits") instanceof ObjectNode limits) {
            ObjectNode requests =
                    resources.path("requests") instanceof ObjectNode r ? r : resources.putObject("requests");
            limits.properties().forEach(e -> {
                if (!requests.has(e.getKey())) {
                    requests.set(e.getKey(), e.getValue());
                }
            });
        }
    }

    /** {@code Always} for {@code :latest} or no tag, {@code IfNotPresent} for any other tag or a digest. */
    static String pullPolicy(String image) {
        if (image.contains("@")) {
            return "IfNotPresent";
        }
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        if (colon <= slash) {
            return "Always"; // no tag (a colon before the last slash is a registry's port)
        }
        return image.substring(colon + 1).equals("latest") ? "Always" : "IfNotPresent";
    }

    private static void setIfMissing(ObjectNode node, String field, Object value) {
        JsonNode current = node.get(field);
        if (current != null && !current.isNull()) {
            return;
        }
        if (value instanceof String s) {
            node.put(field, s);
        } else if (value instanceof Integer i) {
            node.put(field, i);
        } else {
            node.put(field, (Boolean) value);
        }
    }
}
