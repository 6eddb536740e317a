package dev.ferry.platform.kubernetes;

import java.util.List;

/**
 * What Ferry asks of the API server, one row per resource, with the reason: the list {@code check-cluster} asks the
 * API server about ({@code SelfSubjectAccessReview}), and the same rules as the Role in {@code deploy/base/role.yaml}
 * (a test holds the two equal, so that neither changes alone).
 */
final class KubePermissions {

    /**
     * Verbs on one resource of one API group ({@code ""}: the core group), in Ferry's namespace.
     *
     * @param resource a resource, or {@code resource/subresource} ({@code pods/log})
     * @param why      what Ferry does with it, for an operator reading a refusal
     */
    record Rule(String group, String resource, List<String> verbs, String why) {

        String resourceOnly() {
            int slash = resource.indexOf('/');
            return slash < 0 ? resource : resource.substring(0, slash);
        }

        /** The subresource ({@code log} of {@code pods/log}), or empty. */
        String subresource() {
            int slash = resource.indexOf('/');
            return slash < 0 ? "" : resource.substring(slash + 1);
        }
    }

    /** One verb on one resource, as a {@code SelfSubjectAccessReview} asks it. */
    record Access(String verb, Rule rule) {

        /** {@code create pods}, {@code get pods/log}, {@code update leases.coordination.k8s.io}. */
        String describe() {
            return verb + " " + rule.resource() + (rule.group().isEmpty() ? "" : "." + rule.group());
        }
    }

    static final List<Rule> RULES = List.of(
            new Rule(
                    "",
                    "pods",
                    List.of("get", "list", "watch", "create", "delete", "patch"),
                    "start, follow, adopt and end session Pods, and stamp their activity"),
            new Rule("", "pods/log", List.of("get"), "relay a build's log to the launch page"),
            new Rule(
                    "batch",
                    "jobs",
                    List.of("get", "list", "watch", "create", "delete"),
                    "run, follow and clean up build Jobs"),
            new Rule(
                    "",
                    "configmaps",
                    List.of("get", "list", "watch", "create", "patch", "delete"),
                    "keep workshops (one ConfigMap each) and remove those that ended long ago"),
            new Rule(
                    "",
                    "events",
                    List.of("get", "list", "watch"),
                    "tell users why a Pod waits or a build cannot start (scheduler, kubelet, Job controller)"),
            new Rule(
                    "coordination.k8s.io",
                    "leases",
                    List.of("get", "create", "update"),
                    "elect the one replica that culls idle sessions"));

    private KubePermissions() {}

    /** Every verb of every rule, in the table's order. */
    static List<Access> accesses() {
        return RULES.stream()
                .flatMap(r -> r.verbs().stream().map(v -> new Access(v, r)))
                .toList();
    }
}
