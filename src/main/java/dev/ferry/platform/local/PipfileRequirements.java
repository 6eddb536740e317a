package dev.ferry.platform.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

import dev.ferry.build.BuildFailedException;

/**
 * A Pipfile without a Pipfile.lock as pip requirements: {@code [packages]} and {@code [dev-packages]} (repo2docker
 * installs both, {@code --dev}). pipenv itself needs a lock to do this ({@code pipenv requirements}), and making one
 * means resolving everything, so Ferry reads the Pipfile's simple format itself. Every value is checked, so nothing in
 * the Pipfile can add an option or a line of its own to the requirements pip reads.
 */
final class PipfileRequirements {

    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]*$");
    private static final Pattern VERSION = Pattern.compile(
            "^(\\*|(===?|!=|~=|<=?|>=?)\\s*[A-Za-z0-9.*+!_-]+(\\s*,\\s*(===?|!=|~=|<=?|>=?)\\s*[A-Za-z0-9.*+!_-]+)*)$");
    private static final Pattern MARKER = Pattern.compile("^[A-Za-z0-9_.'\"<>=!~ ()-]+$");
    private static final Pattern URL = Pattern.compile("^(https?|git\\+https?|git\\+ssh|git|ssh)://[^\\s#]+$");
    private static final Pattern REF = Pattern.compile("^[A-Za-z0-9._/-]+$");
    private static final List<String> MARKER_KEYS = List.of(
            "os_name",
            "sys_platform",
            "platform_machine",
            "platform_python_implementation",
            "platform_release",
            "platform_system",
            "platform_version",
            "python_version",
            "python_full_version",
            "implementation_name",
            "implementation_version");

    private PipfileRequirements() {}

    /**
     * The requirements, one a line. Relative paths are relative to the Pipfile's folder, as with pipenv, and must stay
     * inside {@code checkout}; {@code shown} is the Pipfile's name as the user knows it, for messages.
     */
    static String read(Path pipfile, Path checkout, String shown) {
        JsonNode toml;
        try {
            toml = TomlMapper.builder().build().readTree(Files.readString(pipfile));
        } catch (JacksonException | IOException e) {
            throw new BuildFailedException(
                    422, shown + " cannot be read as TOML. Check it with pipenv, or add a Pipfile.lock.");
        }
        Path root = checkout.toAbsolutePath().normalize();
        Path base = pipfile.toAbsolutePath().normalize().getParent();
        List<String> lines = new ArrayList<>();
        for (String section : List.of("packages", "dev-packages")) {
            for (Map.Entry<String, JsonNode> entry : toml.path(section).properties()) {
                lines.add(line(entry.getKey(), entry.getValue(), base, root, shown, section));
            }
        }
        return String.join("\n", lines) + "\n";
    }

    private static String line(String name, JsonNode spec, Path base, Path root, String shown, String section) {
        String where = shown + " [" + section + "] " + printable(name);
        if (!NAME.matcher(name).matches()) {
            throw bad(where, "is not a package name");
        }
        if (spec.isString()) {
            return name + version(spec.asString(), where);
        }
        if (!spec.isObject()) {
            throw bad(where, "must be a version such as \"*\" or \"==1.2\", or a table such as {version = \"*\"}");
        }
        String extras = "";
        if (spec.has("extras")) {
            List<String> names = new ArrayList<>();
            for (JsonNode e : spec.path("extras")) {
                if (!e.isString() || !NAME.matcher(e.asString()).matches()) {
                    throw bad(where, "has an extra that is not a name");
                }
                names.add(e.asString());
            }
            extras = names.isEmpty() ? "" : "[" + String.join(",", names) + "]";
        }
        boolean editable = spec.path("editable").asBoolean(false);
        String requirement;
        if (spec.has("path")
                || spec.has("file") && !spec.path("file").asString("").contains("://")) {
            String relative = spec.has("path")
                    ? spec.path("path").asString("")
                    : spec.path("file").asString("");
            Path target = base.resolve(relative).normalize();
            if (relative.isEmpty() || relative.contains("\n") || !target.startsWith(root)) {
                throw bad(where, "has a path outside the repository");
            }
            requirement = (editable ? "-e " : "") + target + extras;
        } else if (spec.has("git") || spec.has("file")) {
            String url = spec.has("git")
                    ? spec.path("git").asString("")
                    : spec.path("file").asString("");
            if (spec.has("git") && !url.startsWith("git+")) {
                url = "git+" + url;
            }
            if (!URL.matcher(url).matches()) {
                throw bad(where, "has a URL Ferry cannot use (https, git or ssh, without spaces)");
            }
            String ref = spec.path("ref").asString("");
            if (!ref.isEmpty() && !REF.matcher(ref).matches()) {
                throw bad(where, "has a ref that is not a branch, tag or commit name");
            }
            requirement = (editable ? "-e " : "") + url + (ref.isEmpty() ? "" : "@" + ref) + "#egg=" + name;
        } else {
            requirement = name + extras + version(spec.path("version").asString("*"), where);
        }
        List<String> markers = new ArrayList<>();
        if (spec.has("markers")) {
            markers.add(marker(spec.path("markers").asString(""), where));
        }
        for (String key : MARKER_KEYS) {
            if (spec.has(key)) {
                markers.add(marker(key + " " + spec.path(key).asString(""), where));
            }
        }
        return markers.isEmpty() ? requirement : requirement + " ; " + String.join(" and ", markers);
    }

    private static String version(String spec, String where) {
        String v = spec.strip();
        if (!VERSION.matcher(v).matches()) {
            throw bad(
                    where,
                    "has the version '" + printable(v)
                            + "'; write \"*\" or a specifier such as \"==1.2\" or \">=1,<2\"");
        }
        return v.equals("*") ? "" : v.replace(" ", "");
    }

    private static String marker(String marker, String where) {
        if (!MARKER.matcher(marker).matches()) {
            throw bad(where, "has an environment marker Ferry cannot use");
        }
        return "(" + marker + ")";
    }

    private static BuildFailedException bad(String where, String what) {
        return new BuildFailedException(
                422, where + " " + what + ". Fix the Pipfile, or add a Pipfile.lock (pipenv lock).");
    }

    private static String printable(String text) {
        String t = text.replaceAll("\\p{Cntrl}", "?");
        return t.length() > 80 ? t.substring(0, 80) + "…" : t;
    }
}
