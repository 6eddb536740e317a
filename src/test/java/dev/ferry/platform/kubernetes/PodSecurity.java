package dev.ferry.platform.kubernetes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

import tools.jackson.databind.JsonNode;

/**
 * The Pod Security admission plugin as the API server runs it, on a Pod's JSON: the namespace's
 * {@code pod-security.kubernetes.io/enforce} label picks the level, and a Pod that breaks it is refused with the
 * plugin's own words ({@code violates PodSecurity "restricted:latest": reason (detail), ...}), its checks in the
 * plugin's order. The checks follow the Pod Security Standards as k8s.io/pod-security-admission/policy implements them
 * (baseline: host namespaces, privileged, capabilities, hostPath volumes, host ports, AppArmor, seccomp; restricted in
 * addition: allowPrivilegeEscalation, capabilities drop ALL, volume types, runAsNonRoot, runAsUser, seccomp required).
 * Not modelled: SELinux options, procMount, sysctls, Windows host process, probe and lifecycle hosts, user namespaces.
 */
final class PodSecurity {

    static final String ENFORCE = "pod-security.kubernetes.io/enforce";
    static final String ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version";

    private static final Set<String> BASELINE_CAPABILITIES = Set.of(
            "AUDIT_WRITE",
            "CHOWN",
            "DAC_OVERRIDE",
            "FOWNER",
            "FSETID",
            "KILL",
            "MKNOD",
            "NET_BIND_SERVICE",
            "SETFCAP",
            "SETGID",
            "SETPCAP",
            "SETUID",
            "SYS_CHROOT");
    private static final Set<String> RESTRICTED_VOLUMES = Set.of(
            "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret");

    private PodSecurity() {}

    /** One failed check: the reason, always said, and its detail (in parentheses). */
    record Violation(String reason, String detail) {
        @Override
        public String toString() {
            return detail.isEmpty() ? reason : reason + " (" + detail + ")";
        }
    }

    /**
     * Why a Pod with {@code metadata} and {@code spec} may not run in a namespace with {@code labels}, in the plugin's
     * words ({@code violates PodSecurity "restricted:latest": ...}), or null when it may.
     */
    static String refusal(Map<String, String> labels, JsonNode metadata, JsonNode spec) {
        String level = labels.getOrDefault(ENFORCE, "privileged");
        if (!level.equals("baseline") && !level.equals("restricted")) {
            return null;
        }
        List<Violation> violations = check(level, metadata, spec);
        if (violations.isEmpty()) {
            return null;
        }
        return "violates PodSecurity \"" + level + ":" + labels.getOrDefault(ENFORCE_VERSION, "latest") + "\": "
                + violations.stream().map(Violation::toString).collect(Collectors.joining(", "));
    }

    static List<Violation> check(String level, JsonNode metadata, JsonNode spec) {
        List<JsonNode> containers = containers(spec);
        List<Violation> found = new ArrayList<>();
        // baseline checks, in the plugin's order (its files' order); capabilities and seccomp are overridden by the
        // restricted versions of the same checks at the restricted level
        add(found, appArmor(metadata, spec, containers));
        if (level.equals("baseline")) {
            add(found, baselineCapabilities(containers));
        }
        add(found, hostNamespaces(spec));
        add(found, hostPathVolumes(spec));
        add(found, hostPorts(containers));
        add(found, privileged(containers));
        if (level.equals("baseline")) {
            add(found, seccomp(spec, containers, false));
            return found;
        }
        add(found, allowPrivilegeEscalation(containers));
        add(found, restrictedCapabilities(containers));
        add(found, restrictedVolumes(spec));
        add(found, runAsNonRoot(spec, containers));
        add(found, runAsUser(spec, containers));
        add(found, seccomp(spec, containers, true));
        return found;
    }

    private static void add(List<Violation> found, Violation v) {
        if (v != null) {
            found.add(v);
        }
    }

    private static List<JsonNode> containers(JsonNode spec) {
        List<JsonNode> all = new ArrayList<>();
        for (String kind : List.of("initContainers", "containers", "ephemeralContainers")) {
            spec.path(kind).forEach(all::add);
        }
        return all;
    }

    private static String name(JsonNode container) {
        return container.path("name").asString("");
    }

    private static JsonNode sc(JsonNode container) {
        return container.path("securityContext");
    }

    /** {@code container "a"} or {@code containers "a", "b"}. */
    private static String containersNamed(List<String> names) {
        return (names.size() == 1 ? "container " : "containers ") + quoted(names);
    }

    private static String quoted(java.util.Collection<String> values) {
        return values.stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", "));
    }

    private static List<String> where(List<JsonNode> containers, Function<JsonNode, Boolean> bad) {
        return containers.stream().filter(bad::apply).map(PodSecurity::name).toList();
    }

    private static Violation appArmor(JsonNode metadata, JsonNode spec, List<JsonNode> containers) {
        List<String> setters = new ArrayList<>();
        Set<String> values = new TreeSet<>();
        String pod = spec.path("securityContext")
                .path("appArmorProfile")
                .path("type")
                .asString(null);
        if (pod != null && !pod.equals("RuntimeDefault") && !pod.equals("Localhost")) {
            setters.add("pod");
            values.add(pod);
        }
        List<String> bad = new ArrayList<>();
        for (JsonNode c : containers) {
            String type = sc(c).path("appArmorProfile").path("type").asString(null);
            if (type != null && !type.equals("RuntimeDefault") && !type.equals("Localhost")) {
                bad.add(name(c));
                values.add(type);
            }
        }
        if (!bad.isEmpty()) {
            setters.add(containersNamed(bad));
        }
        List<String> annotations = new ArrayList<>();
        for (var e : metadata.path("annotations").properties()) {
            String v = e.getValue().asString("");
            if (e.getKey().startsWith("container.apparmor.security.beta.kubernetes.io/")
                    && !v.isEmpty()
                    && !v.equals("runtime/default")
                    && !v.startsWith("localhost/")) {
                annotations.add(e.getKey() + "=\"" + v + "\"");
            }
        }
        java.util.Collections.sort(annotations);
        List<String> valueList = new ArrayList<>(values);
        if (!annotations.isEmpty()) {
            valueList.addAll(annotations);
            setters.add(annotations.size() == 1 ? "annotation" : "annotations");
        }
        if (setters.isEmpty()) {
            return null;
        }
        return new Violation(
                valueList.size() == 1 ? "forbidden AppArmor profile" : "forbidden AppArmor profiles",
                String.join(" and ", setters) + " must not set AppArmor profile type to " + quoted(valueList));
    }

    private static Violation baselineCapabilities(List<JsonNode> containers) {
        Set<String> added = new TreeSet<>();
        List<String> bad = where(containers, c -> {
            boolean b = false;
            for (JsonNode cap : sc(c).path("capabilities").path("add")) {
                if (!BASELINE_CAPABILITIES.contains(cap.asString(""))) {
                    added.add(cap.asString(""));
                    b = true;
                }
            }
            return b;
        });
        return bad.isEmpty()
                ? null
                : new Violation(
                        "non-default capabilities",
                        containersNamed(bad) + " must not include " + quoted(added)
                                + " in securityContext.capabilities.add");
    }

    private static Violation hostNamespaces(JsonNode spec) {
        List<String> used = new ArrayList<>();
        for (String ns : List.of("hostIPC", "hostNetwork", "hostPID")) {
            if (spec.path(ns).asBoolean(false)) {
                used.add(ns + "=true");
            }
        }
        return used.isEmpty() ? null : new Violation("host namespaces", String.join(", ", used));
    }

    private static Violation hostPathVolumes(JsonNode spec) {
        List<String> names = new ArrayList<>();
        spec.path("volumes").forEach(v -> {
            if (v.has("hostPath")) {
                names.add(v.path("name").asString(""));
            }
        });
        return names.isEmpty()
                ? null
                : new Violation("hostPath volumes", (names.size() == 1 ? "volume " : "volumes ") + quoted(names));
    }

    private static Violation hostPorts(List<JsonNode> containers) {
        Set<String> ports = new TreeSet<>();
        List<String> bad = where(containers, c -> {
            boolean b = false;
            for (JsonNode p : c.path("ports")) {
                if (p.path("hostPort").asInt(0) != 0) {
                    ports.add(String.valueOf(p.path("hostPort").asInt()));
                    b = true;
                }
            }
            return b;
        });
        return bad.isEmpty()
                ? null
                : new Violation(
                        "hostPort",
                        containersNamed(bad)
                                + (bad.size() == 1 ? " uses " : " use ")
                                + (ports.size() == 1 ? "hostPort " : "hostPorts ")
                                + String.join(", ", ports));
    }

    private static Violation privileged(List<JsonNode> containers) {
        List<String> bad = where(containers, c -> sc(c).path("privileged").asBoolean(false));
        return bad.isEmpty()
                ? null
                : new Violation("privileged", containersNamed(bad) + " must not set securityContext.privileged=true");
    }

    private static Violation allowPrivilegeEscalation(List<JsonNode> containers) {
        List<String> bad = where(
                containers,
                c -> !sc(c).path("allowPrivilegeEscalation").isBoolean()
                        || sc(c).path("allowPrivilegeEscalation").asBoolean());
        return bad.isEmpty()
                ? null
                : new Violation(
                        "allowPrivilegeEscalation != false",
                        containersNamed(bad) + " must set securityContext.allowPrivilegeEscalation=false");
    }

    private static Violation restrictedCapabilities(List<JsonNode> containers) {
        List<String> missingDrop = new ArrayList<>();
        List<String> adding = new ArrayList<>();
        Set<String> forbidden = new TreeSet<>();
        for (JsonNode c : containers) {
            JsonNode caps = sc(c).path("capabilities");
            boolean dropsAll = false;
            for (JsonNode d : caps.path("drop")) {
                dropsAll |= d.asString("").equals("ALL");
            }
            if (!dropsAll) {
                missingDrop.add(name(c));
            }
            boolean adds = false;
            for (JsonNode a : caps.path("add")) {
                if (!a.asString("").equals("NET_BIND_SERVICE")) {
                    forbidden.add(a.asString(""));
                    adds = true;
                }
            }
            if (adds) {
                adding.add(name(c));
            }
        }
        List<String> details = new ArrayList<>();
        if (!missingDrop.isEmpty()) {
            details.add(containersNamed(missingDrop) + " must set securityContext.capabilities.drop=[\"ALL\"]");
        }
        if (!adding.isEmpty()) {
            details.add(containersNamed(adding) + " must not include " + quoted(forbidden)
                    + " in securityContext.capabilities.add");
        }
        return details.isEmpty() ? null : new Violation("unrestricted capabilities", String.join("; ", details));
    }

    private static Violation restrictedVolumes(JsonNode spec) {
        Set<String> names = new TreeSet<>();
        spec.path("volumes").forEach(v -> {
            boolean allowed = false;
            for (String type : RESTRICTED_VOLUMES) {
                allowed |= v.has(type) && !v.get(type).isNull();
            }
            if (!allowed) {
                names.add(v.path("name").asString(""));
            }
        });
        // the plugin prints the Go slice: volumes ["a" "b"]
        return names.isEmpty()
                ? null
                : new Violation(
                        "restricted volume types",
                        "volumes [" + names.stream().map(n -> "\"" + n + "\"").collect(Collectors.joining(" "))
                                + "] have restricted types");
    }

    private static Violation runAsNonRoot(JsonNode spec, List<JsonNode> containers) {
        List<String> badSetters = new ArrayList<>();
        JsonNode pod = spec.path("securityContext").path("runAsNonRoot");
        boolean podTrue = false;
        if (pod.isBoolean()) {
            if (pod.asBoolean()) {
                podTrue = true;
            } else {
                badSetters.add("pod");
            }
        }
        boolean podNonRoot = podTrue;
        List<String> explicit = where(
                containers,
                c -> sc(c).path("runAsNonRoot").isBoolean()
                        && !sc(c).path("runAsNonRoot").asBoolean());
        List<String> implicit =
                where(containers, c -> !sc(c).path("runAsNonRoot").isBoolean() && !podNonRoot);
        if (!explicit.isEmpty()) {
            badSetters.add(containersNamed(explicit));
        }
        if (!badSetters.isEmpty()) {
            return new Violation(
                    "runAsNonRoot != true",
                    String.join(" and ", badSetters) + " must not set securityContext.runAsNonRoot=false");
        }
        return implicit.isEmpty()
                ? null
                : new Violation(
                        "runAsNonRoot != true",
                        "pod or " + containersNamed(implicit) + " must set securityContext.runAsNonRoot=true");
    }

    private static Violation runAsUser(JsonNode spec, List<JsonNode> containers) {
        List<String> badSetters = new ArrayList<>();
        JsonNode pod = spec.path("securityContext").path("runAsUser");
        if (pod.isIntegralNumber() && pod.asLong() == 0) {
            badSetters.add("pod");
        }
        List<String> bad = where(
                containers,
                c -> sc(c).path("runAsUser").isIntegralNumber()
                        && sc(c).path("runAsUser").asLong() == 0);
        if (!bad.isEmpty()) {
            badSetters.add(containersNamed(bad));
        }
        return badSetters.isEmpty()
                ? null
                : new Violation("runAsUser=0", String.join(" and ", badSetters) + " must not set runAsUser=0");
    }

    /** Baseline: no Unconfined seccomp where set. Restricted: RuntimeDefault or Localhost, on the pod or every container. */
    private static Violation seccomp(JsonNode spec, List<JsonNode> containers, boolean required) {
        List<String> badSetters = new ArrayList<>();
        Set<String> badValues = new TreeSet<>();
        String pod =
                spec.path("securityContext").path("seccompProfile").path("type").asString(null);
        boolean podSet = false;
        if (pod != null) {
            if (!validSeccomp(pod)) {
                badSetters.add("pod");
                badValues.add(pod);
            } else {
                podSet = true;
            }
        }
        List<String> explicit = new ArrayList<>();
        List<String> implicit = new ArrayList<>();
        for (JsonNode c : containers) {
            String type = sc(c).path("seccompProfile").path("type").asString(null);
            if (type != null) {
                if (!validSeccomp(type)) {
                    explicit.add(name(c));
                    badValues.add(type);
                }
            } else if (!podSet) {
                implicit.add(name(c));
            }
        }
        if (!explicit.isEmpty()) {
            badSetters.add(containersNamed(explicit));
        }
        if (!badSetters.isEmpty()) {
            return new Violation(
                    "seccompProfile",
                    String.join(" and ", badSetters) + " must not set securityContext.seccompProfile.type to "
                            + quoted(badValues));
        }
        return !required || implicit.isEmpty()
                ? null
                : new Violation(
                        "seccompProfile",
                        "pod or " + containersNamed(implicit)
                                + " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"");
    }

    private static boolean validSeccomp(String type) {
        return type.equals("RuntimeDefault") || type.equals("Localhost");
    }
}
