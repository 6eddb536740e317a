package dev.ferry.platform.kubernetes;

import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.google.gson.annotations.SerializedName;
import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1DeleteOptions;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1Service;
import tools.jackson.databind.JsonNode;

/**
 * The API's schema, as the API server's strict decoding ({@code fieldValidation=Strict}) applies it to a request body:
 * every field must exist where it is, with a value of its type. The schema is read from client-java's model classes —
 * generated from the API's OpenAPI document, one {@code @SerializedName} field per property — by reflection, so it is
 * the API's own and not a hand-kept list.
 */
final class ApiSchema {

    /** The model of each resource Ferry writes, by {@code group/resource}, and its kind and group version. */
    private static final Map<String, Model> RESOURCES = Map.of(
            "/pods",
            new Model(V1Pod.class, "Pod", "v1"),
            "batch/jobs",
            new Model(V1Job.class, "Job", "batch/v1"),
            "/configmaps",
            new Model(V1ConfigMap.class, "ConfigMap", "v1"),
            "/events",
            new Model(CoreV1Event.class, "Event", "v1"),
            "/namespaces",
            new Model(V1Namespace.class, "Namespace", "v1"),
            "/secrets",
            new Model(V1Secret.class, "Secret", "v1"),
            "/services",
            new Model(V1Service.class, "Service", "v1"),
            "coordination.k8s.io/leases",
            new Model(V1Lease.class, "Lease", "coordination.k8s.io/v1"),
            "authorization.k8s.io/selfsubjectaccessreviews",
            new Model(V1SelfSubjectAccessReview.class, "SelfSubjectAccessReview", "authorization.k8s.io/v1"));

    private static final Map<Class<?>, Map<String, Field>> FIELDS = new ConcurrentHashMap<>();

    record Model(Class<?> type, String kind, String groupVersion) {}

    private ApiSchema() {}

    /** The model a write to {@code groupResource} (a subresource's name stripped: pods/status is a Pod) carries. */
    static Model model(String groupResource) {
        int slash = groupResource.indexOf('/', groupResource.indexOf('/') + 1);
        return RESOURCES.get(slash < 0 ? groupResource : groupResource.substring(0, slash));
    }

    static Class<?> deleteOptions() {
        return V1DeleteOptions.class;
    }

    /**
     * What strict decoding finds wrong in {@code body} read as {@code type}: unknown fields (by their path, as the API
     * server names them) and values of the wrong JSON type. Empty when the body decodes. {@code patch}: a merge patch,
     * where {@code null} deletes and a strategic merge patch's {@code $} directives are allowed.
     */
    static List<String> problems(JsonNode body, Class<?> type, boolean patch) {
        List<String> problems = new ArrayList<>();
        check(body, type, "", type.getSimpleName(), patch, problems);
        return problems;
    }

    private static void check(
            JsonNode node, Type type, String path, String goStruct, boolean patch, List<String> problems) {
        if (node == null || node.isNull()) {
            return;
        }
        Class<?> raw = raw(type);
        if (type instanceof ParameterizedType p && List.class.isAssignableFrom(raw)) {
            if (!node.isArray()) {
                problems.add(mismatch(node, goStruct, path, "[]" + goType(p.getActualTypeArguments()[0])));
                return;
            }
            for (int i = 0; i < node.size(); i++) {
                check(node.get(i), p.getActualTypeArguments()[0], path + "[" + i + "]", goStruct, patch, problems);
            }
        } else if (type instanceof ParameterizedType p && Map.class.isAssignableFrom(raw)) {
            if (!node.isObject()) {
                problems.add(mismatch(node, goStruct, path, "map[string]" + goType(p.getActualTypeArguments()[1])));
                return;
            }
            for (var e : node.properties()) {
                check(e.getValue(), p.getActualTypeArguments()[1], path + "." + e.getKey(), goStruct, patch, problems);
            }
        } else if (!fields(raw).isEmpty()) {
            if (!node.isObject()) {
                problems.add(mismatch(node, goStruct, path, goType(raw)));
                return;
            }
            Map<String, Field> fields = fields(raw);
            for (var e : node.properties()) {
                String name = e.getKey();
                String at = path.isEmpty() ? name : path + "." + name;
                Field f = fields.get(name);
                if (f == null) {
                    if (!(patch && name.startsWith("$"))) {
                        problems.add("unknown field \"" + at + "\"");
                    }
                    continue;
                }
                check(e.getValue(), f.getGenericType(), at, goType(raw), patch, problems);
            }
        } else if (!leafFits(node, raw)) {
            problems.add(mismatch(node, goStruct, path, goType(raw)));
        }
    }

    private static boolean leafFits(JsonNode node, Class<?> raw) {
        if (raw == String.class || raw == java.time.OffsetDateTime.class || raw == byte[].class || raw.isEnum()) {
            return node.isString();
        }
        if (raw == Boolean.class) {
            return node.isBoolean();
        }
        if (raw == Integer.class || raw == Long.class) {
            return node.isIntegralNumber();
        }
        if (raw == Double.class || raw == Float.class || raw == java.math.BigDecimal.class) {
            return node.isNumber();
        }
        if (raw == Quantity.class || raw == IntOrString.class) {
            return node.isString() || node.isIntegralNumber() || (raw == Quantity.class && node.isNumber());
        }
        return true; // Object: any JSON (e.g. a RawExtension)
    }

    /** The Go decoder's words for a value of the wrong type. */
    private static String mismatch(JsonNode node, String goStruct, String path, String goType) {
        String json = node.isObject()
                ? "object"
                : node.isArray()
                        ? "array"
                        : node.isString() ? "string" : node.isNumber() ? "number" : node.isBoolean() ? "bool" : "value";
        return "json: cannot unmarshal " + json + " into Go struct field " + goStruct + "."
                + path.replaceAll("\\[\\d+]", "") + " of type " + goType;
    }

    private static String goType(Type type) {
        Class<?> raw = raw(type);
        if (raw == String.class || raw == java.time.OffsetDateTime.class) {
            return "string";
        }
        if (raw == Integer.class) {
            return "int32";
        }
        if (raw == Long.class) {
            return "int64";
        }
        if (raw == Boolean.class) {
            return "bool";
        }
        return "v1." + raw.getSimpleName().replaceFirst("^(CoreV1|V1)", "");
    }

    private static Class<?> raw(Type type) {
        return type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    }

    /** A model class's properties by their JSON name; empty for anything that is not a model. */
    private static Map<String, Field> fields(Class<?> type) {
        return FIELDS.computeIfAbsent(type, t -> {
            Map<String, Field> fields = new HashMap<>();
            if (t.getPackageName().equals("io.kubernetes.client.openapi.models")) {
                for (Field f : t.getDeclaredFields()) {
                    SerializedName name = f.getAnnotation(SerializedName.class);
                    if (name != null) {
                        fields.put(name.value(), f);
                    }
                }
            }
            return fields;
        });
    }
}
