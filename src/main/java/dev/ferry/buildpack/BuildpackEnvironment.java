package dev.ferry.buildpack;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The portal's {@code ferry.buildpack.*} settings as environment variables and back: the kubernetes build Job passes
 * them to its {@code prepare} step, which renders the Dockerfile with them (so mirrors, base images and the s2i
 * builder an operator set apply there as on the portal). The names are Spring's own for the settings
 * ({@code ferry.buildpack.base-image} is {@code FERRY_BUILDPACK_BASE_IMAGE}). Every component of
 * {@link BuildpackProperties} is carried, those added later too: they are read from the record, not listed here.
 */
public final class BuildpackEnvironment {

    static final String PREFIX = "FERRY_BUILDPACK_";

    private BuildpackEnvironment() {}

    /** One variable per setting; lists are comma-separated. */
    public static Map<String, String> of(BuildpackProperties settings) {
        Map<String, String> env = new LinkedHashMap<>();
        for (RecordComponent c : BuildpackProperties.class.getRecordComponents()) {
            Object value = value(c, settings);
            env.put(
                    name(c),
                    value instanceof List<?> list
                            ? String.join(
                                    ",", list.stream().map(String::valueOf).toList())
                            : String.valueOf(value == null ? "" : value));
        }
        return env;
    }

    /** The settings {@code env} carries; a setting it lacks keeps its default. */
    public static BuildpackProperties from(Map<String, String> env) {
        BuildpackProperties defaults = BuildpackProperties.defaults();
        RecordComponent[] components = BuildpackProperties.class.getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            types[i] = c.getType();
            String raw = env.get(name(c));
            values[i] = raw == null ? value(c, defaults) : parse(c, raw);
        }
        try {
            return BuildpackProperties.class.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("BuildpackProperties cannot be made from its components", e);
        }
    }

    static String name(RecordComponent c) {
        return PREFIX + c.getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    private static Object value(RecordComponent c, BuildpackProperties settings) {
        try {
            return c.getAccessor().invoke(settings);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object parse(RecordComponent c, String raw) {
        Class<?> type = c.getType();
        if (type == String.class) {
            return raw;
        }
        if (type == boolean.class || type == Boolean.class) {
            return Boolean.parseBoolean(raw.trim());
        }
        if (type == int.class || type == Integer.class) {
            return Integer.parseInt(raw.trim());
        }
        if (type == long.class || type == Long.class) {
            return Long.parseLong(raw.trim());
        }
        if (type == List.class) {
            return raw.isBlank() ? List.of() : List.of(raw.split(","));
        }
        throw new IllegalStateException("ferry.buildpack." + c.getName() + " (" + type.getSimpleName()
                + ") cannot be passed to the prepare step as an environment variable");
    }
}
