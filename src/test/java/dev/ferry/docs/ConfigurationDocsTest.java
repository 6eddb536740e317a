package dev.ferry.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.core.convert.ConversionService;
import org.springframework.util.unit.DataSize;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@code @ConfigurationProperties} records are the one source of every {@code ferry.*} setting: their
 * {@code @DefaultValue}s are the defaults and their {@code @param} Javadoc the descriptions, which
 * spring-boot-configuration-processor writes to {@code target/classes/META-INF/spring-configuration-metadata.json}
 * when the main code compiles. docs/configuration.md repeats them in its tables for readers; this test holds the tables
 * to the metadata, and application.yml to setting none of them.
 *
 * <p>How a table row is read. A row whose first cell starts with {@code `ferry.} documents the settings named in that
 * cell: one or more code spans separated by {@code " / "}; a later name without the {@code ferry.} start replaces the
 * last part of the first ({@code `ferry.kubernetes.session.cpu-request` / `cpu-limit`}), and a trailing {@code .<key>}
 * ({@code ferry.proxy.routes.<name>}) names the map setting itself. The second cell is the default: one part for all
 * names, or as many {@code " / "}-separated parts as names, in order.
 *
 * <p>The rule for a default, strict on purpose:
 * <ul>
 * <li>where the metadata's default is empty or absent (an empty text, list or map, or a value the record computes), the
 * part is {@code empty}, alone or followed by {@code ": "} or {@code " ("} and what empty means
 * ({@code empty: the portal's namespace});</li>
 * <li>otherwise the part starts with the default in a code span — a list as all its values, each in a code span,
 * separated by {@code ", "} — and anything after it is commentary. The value is compared as its setting's type reads
 * it: durations and data sizes by what they amount to ({@code `60s`} matches {@code 1m}), numbers as numbers, booleans
 * and texts exactly, enum constants ignoring case.</li>
 * </ul>
 * A setting of the metadata without a row, a row naming a setting the metadata lacks, a setting with two rows and a
 * default that breaks the rule each fail the test, with the row's line.
 */
class ConfigurationDocsTest {

    private static final Path METADATA = Path.of("target/classes/META-INF/spring-configuration-metadata.json");
    private static final Path DOCS = Path.of("docs/configuration.md");
    private static final Path APPLICATION_YML = Path.of("src/main/resources/application.yml");

    private static final Pattern ROW = Pattern.compile("^\\|\\s*(`ferry\\.[^|]*?)\\s*\\|\\s*([^|]*?)\\s*\\|");
    private static final Pattern NAME = Pattern.compile("`([a-z0-9.<>-]+)`");
    private static final Pattern EMPTY = Pattern.compile("empty(?:$|: | \\().*");
    private static final Pattern CODE = Pattern.compile("`([^`]*)`");

    private static final ConversionService CONVERSION = ApplicationConversionService.getSharedInstance();

    /** One setting as the metadata declares it. */
    record Setting(String name, String type, JsonNode defaultValue, String description) {}

    /** One setting as a table row documents it. */
    record Row(String name, String defaultText, int line) {}

    @Test
    void everySettingHasOneRowWithItsDefault() throws IOException {
        Map<String, Setting> settings = metadata();
        List<String> problems = new ArrayList<>();
        Map<String, Row> rows = new LinkedHashMap<>();
        for (Row row : rows(Files.readAllLines(DOCS), problems)) {
            if (rows.putIfAbsent(row.name(), row) != null) {
                problems.add(DOCS + ":" + row.line() + ": " + row.name() + " has a second row (first at line "
                        + rows.get(row.name()).line() + ")");
            }
        }
        for (Setting setting : settings.values()) {
            if (!rows.containsKey(setting.name())) {
                problems.add(setting.name() + " (default " + setting.defaultValue() + ") has no row in " + DOCS);
            }
        }
        for (Row row : rows.values()) {
            Setting setting = settings.get(row.name());
            if (setting == null) {
                problems.add(DOCS + ":" + row.line() + ": " + row.name() + " is no setting of the records");
            } else if (!documents(row.defaultText(), setting)) {
                problems.add(DOCS + ":" + row.line() + ": " + row.name() + " says its default is \"" + row.defaultText()
                        + "\"; the record's is " + shown(setting));
            }
        }
        assertThat(problems)
                .as("docs/configuration.md against the records' metadata")
                .isEmpty();
    }

    @Test
    void everySettingIsDescribedInItsRecord() throws IOException {
        List<String> undescribed = metadata().values().stream()
                .filter(s -> s.description().isBlank())
                .map(Setting::name)
                .toList();
        assertThat(undescribed)
                .as("ferry.* settings without @param Javadoc in their record")
                .isEmpty();
    }

    /**
     * The processor finds a component's {@code @param} tag by its start: {@code @param maxFailedLogins} also starts
     * {@code @param maxFailedLoginsPerAddress}, so when the longer tag comes first the shorter name gets its text,
     * beginning with the rest of the longer name ("PerAddress login attempts …"). Such a record lists the shorter
     * name's tag first.
     */
    @Test
    void noSettingIsDescribedWithALongerNamesJavadoc() throws IOException {
        Map<String, Setting> settings = metadata();
        List<String> misdescribed = new ArrayList<>();
        for (Setting setting : settings.values()) {
            String firstWord = setting.description().split("\\s", 2)[0];
            String rest = firstWord.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
            if (!firstWord.isEmpty()
                    && Character.isUpperCase(firstWord.charAt(0))
                    && settings.containsKey(setting.name() + "-" + rest)) {
                misdescribed.add(setting.name() + ": " + setting.description());
            }
        }
        assertThat(misdescribed)
                .as("settings described with the @param text of a longer name")
                .isEmpty();
    }

    @Test
    void applicationYmlSetsNoFerrySetting() throws IOException {
        Object yaml = new org.yaml.snakeyaml.Yaml().load(Files.readString(APPLICATION_YML));
        assertThat(yaml).isInstanceOf(Map.class);
        assertThat(((Map<?, ?>) yaml).keySet().stream().map(String::valueOf).toList())
                .as("top-level keys of application.yml: ferry.* defaults live in the records, not here")
                .doesNotContain("ferry");
    }

    /** The rule itself, on settings and rows made up here: it must catch a drift, and let a faithful row pass. */
    @Test
    void theRuleCatchesADriftedDefault() {
        Setting duration = setting("java.time.Duration", "\"60s\"");
        assertThat(documents("`60s`", duration)).isTrue();
        assertThat(documents("`1m`", duration))
                .as("the same duration written otherwise")
                .isTrue();
        assertThat(documents("`30s`", duration)).isFalse();
        assertThat(documents("empty", duration)).isFalse();

        Setting size = setting("org.springframework.util.unit.DataSize", "\"1GB\"");
        assertThat(documents("`1024MB`", size)).isTrue();
        assertThat(documents("`1MB`", size)).isFalse();

        Setting empty = setting("java.lang.String", "\"\"");
        assertThat(documents("empty", empty)).isTrue();
        assertThat(documents("empty: the portal's namespace", empty)).isTrue();
        assertThat(documents("empty (off)", empty)).isTrue();
        assertThat(documents("none", empty)).isFalse();
        assertThat(documents("`default`", empty)).isFalse();
        assertThat(documents("emptyish", empty)).isFalse();
        assertThat(documents("empty", setting("java.nio.file.Path", null)))
                .as("a default the record computes")
                .isTrue();

        Setting text = setting("java.lang.String", "\"IfNotPresent\"");
        assertThat(documents("`IfNotPresent`", text)).isTrue();
        assertThat(documents("`IfNotPresent` (nodes keep images)", text)).isTrue();
        assertThat(documents("`Always`", text)).isFalse();
        assertThat(documents("IfNotPresent", text))
                .as("the value outside a code span")
                .isFalse();

        Setting list = setting("java.util.List<java.lang.String>", "\"[A, B]\"");
        assertThat(documents("`A`, `B`", list)).isTrue();
        assertThat(documents("`A`", list)).isFalse();
        assertThat(documents("`A`, `B`, `C`", list)).isFalse();
        assertThat(documents("`https`", setting("java.util.List<java.lang.String>", "\"https\"")))
                .isTrue();
        assertThat(documents("empty", setting("java.util.List<java.lang.String>", "\"[]\"")))
                .isTrue();

        assertThat(documents("`100`", setting("java.lang.Integer", "100"))).isTrue();
        assertThat(documents("`10`", setting("java.lang.Integer", "100"))).isFalse();
        assertThat(documents("`false`", setting("java.lang.Boolean", "false"))).isTrue();
        assertThat(documents("`true`", setting("java.lang.Boolean", "false"))).isFalse();
    }

    @Test
    void aRowNamesItsSettingsAndDefaults() {
        List<String> problems = new ArrayList<>();
        List<Row> rows = rows(
                List.of(
                        "| `ferry.kubernetes.session.cpu-request` / `cpu-limit` | `100m` / `1` | CPU. |",
                        "| `ferry.kubernetes.session.node-selector` / `tolerations` | empty | Where. |",
                        "| `ferry.proxy.routes.<name>` | empty | A route. |",
                        "| `ferry.a` / `b` / `c` | `1` / `2` | Too few defaults. |",
                        "| setting | default | meaning |"),
                problems);
        assertThat(rows)
                .containsExactly(
                        new Row("ferry.kubernetes.session.cpu-request", "`100m`", 1),
                        new Row("ferry.kubernetes.session.cpu-limit", "`1`", 1),
                        new Row("ferry.kubernetes.session.node-selector", "empty", 2),
                        new Row("ferry.kubernetes.session.tolerations", "empty", 2),
                        new Row("ferry.proxy.routes", "empty", 3));
        assertThat(problems).singleElement().asString().contains(":4:", "3 settings", "2 defaults");
    }

    private static Setting setting(String type, String defaultJson) {
        return new Setting(
                "ferry.example",
                type,
                defaultJson == null ? null : JsonMapper.builder().build().readTree(defaultJson),
                "an example");
    }

    /** The table rows of a document, one per setting named. */
    static List<Row> rows(List<String> lines, List<String> problems) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher row = ROW.matcher(lines.get(i));
            if (!row.find()) {
                continue;
            }
            List<String> names = names(row.group(1));
            String[] defaults = row.group(2).split(" / ", -1);
            if (defaults.length != 1 && defaults.length != names.size()) {
                problems.add(DOCS + ":" + (i + 1) + ": the row names " + names.size() + " settings but gives "
                        + defaults.length + " defaults (give one for all, or one each)");
                continue;
            }
            for (int n = 0; n < names.size(); n++) {
                rows.add(new Row(names.get(n), defaults.length == 1 ? defaults[0] : defaults[n], i + 1));
            }
        }
        return rows;
    }

    private static List<String> names(String cell) {
        List<String> names = new ArrayList<>();
        String first = null;
        for (String part : cell.split(" / ")) {
            Matcher m = NAME.matcher(part.strip());
            if (!m.matches()) {
                names.add(part.strip());
                continue;
            }
            String name = m.group(1).replaceAll("\\.<[a-z-]+>$", "");
            if (first == null) {
                first = name;
            } else if (!name.startsWith("ferry.")) {
                name = first.substring(0, first.lastIndexOf('.') + 1) + name;
            }
            names.add(name);
        }
        return names;
    }

    /** Whether a row's default text states the setting's default, by the rule in the class comment. */
    static boolean documents(String text, Setting setting) {
        List<String> expected = values(setting);
        if (expected.isEmpty()) {
            return EMPTY.matcher(text).matches();
        }
        List<String> written = new ArrayList<>();
        Matcher code = CODE.matcher(text);
        int end = 0;
        while (code.find(end) && code.start() == end) {
            written.add(code.group(1));
            end = code.end();
            if (!text.startsWith(", `", end)) {
                break;
            }
            end += 2;
        }
        if (written.size() != expected.size()) {
            return false;
        }
        for (int i = 0; i < expected.size(); i++) {
            if (!same(written.get(i), expected.get(i), setting.type())) {
                return false;
            }
        }
        return true;
    }

    /** The setting's default as a list of values: empty for none, one value for all but lists. */
    private static List<String> values(Setting setting) {
        JsonNode value = setting.defaultValue();
        if (value == null || value.isNull()) {
            return List.of();
        }
        if (value.isArray()) {
            List<String> out = new ArrayList<>();
            value.values().forEach(v -> out.add(v.asString()));
            return out;
        }
        String text = value.asString();
        if (setting.type().startsWith("java.util.List<") || setting.type().startsWith("java.util.Map<")) {
            String inner = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
            return inner.isBlank() ? List.of() : List.of(inner.split(",\\s*"));
        }
        return text.isEmpty() ? List.of() : List.of(text);
    }

    private static boolean same(String written, String expected, String type) {
        return switch (type) {
            case "java.time.Duration" ->
                parse(written, Duration.class) != null
                        && parse(written, Duration.class).equals(parse(expected, Duration.class));
            case "org.springframework.util.unit.DataSize" ->
                parse(written, DataSize.class) != null
                        && parse(written, DataSize.class).equals(parse(expected, DataSize.class));
            case "java.lang.Integer", "java.lang.Long" ->
                written.matches("-?[0-9]+") && Long.parseLong(written) == Long.parseLong(expected);
            default ->
                type.contains("$") || type.startsWith("dev.ferry.")
                        ? written.equalsIgnoreCase(expected)
                        : written.equals(expected);
        };
    }

    private static <T> T parse(String text, Class<T> type) {
        try {
            return CONVERSION.convert(text, type);
        } catch (RuntimeException notOne) {
            return null;
        }
    }

    private static String shown(Setting setting) {
        List<String> values = values(setting);
        return values.isEmpty()
                ? "empty"
                : String.join(", ", values.stream().map(v -> "`" + v + "`").toList());
    }

    /** The generated metadata's ferry.* settings, by name. */
    static Map<String, Setting> metadata() throws IOException {
        assertThat(METADATA)
                .as("the configuration metadata, which spring-boot-configuration-processor writes when "
                        + "Maven compiles the main code (run the test through ./mvnw)")
                .exists();
        JsonNode root = JsonMapper.builder().build().readTree(Files.readString(METADATA));
        Map<String, Setting> settings = new LinkedHashMap<>();
        for (JsonNode property : root.get("properties").values()) {
            String name = property.get("name").asString();
            if (name.startsWith("ferry.")) {
                String description = property.has("description")
                        ? property.get("description").asString()
                        : "";
                settings.put(
                        name,
                        new Setting(name, property.get("type").asString(), property.get("defaultValue"), description));
            }
        }
        assertThat(settings).as("ferry.* settings in the metadata").isNotEmpty();
        return settings;
    }
}
