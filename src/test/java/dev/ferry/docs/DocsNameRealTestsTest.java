package dev.ferry.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The documents promise behaviour by naming the test that shows it (docs/bad-inputs.md, docs/compatibility.md,
 * docs/security.md …). A renamed or deleted test leaves such a promise without proof and nothing else notices: every
 * test class, and every test method, that a document names must exist. {@code Class.prefix…} names the methods that
 * begin so; a name with {@code *} names a family and is not checked.
 */
class DocsNameRealTestsTest {

    private static final Pattern NAMED = Pattern.compile(
            "(?<![A-Za-z0-9*])([A-Z][A-Za-z0-9]*(?:Test|IT))(?:[.#]([a-z][A-Za-z0-9_]*)(…)?)?(?![A-Za-z0-9*])");

    @Test
    void everyTestADocumentNamesExists() throws IOException {
        Map<String, String> sources = testSources();
        List<String> missing = new ArrayList<>();
        for (Path doc : documents()) {
            List<String> lines = Files.readAllLines(doc);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = NAMED.matcher(lines.get(i));
                while (m.find()) {
                    String where = doc + ":" + (i + 1) + ": ";
                    String source = sources.get(m.group(1));
                    if (source == null) {
                        missing.add(where + "no test class " + m.group(1));
                    } else if (m.group(2) != null && !hasMethod(source, m.group(2), m.group(3) != null)) {
                        missing.add(
                                where + m.group(1) + " has no test " + m.group(2) + (m.group(3) != null ? "…" : ""));
                    }
                }
            }
        }
        assertThat(missing).as("tests named in the documents that do not exist").isEmpty();
    }

    @Test
    void aNameThatIsNotThereIsFound() {
        Map<String, String> sources = Map.of("SampleTest", "class SampleTest {\n    @Test\n    void realOne() {}\n}");
        assertThat(hasMethod(sources.get("SampleTest"), "realOne", false)).isTrue();
        assertThat(hasMethod(sources.get("SampleTest"), "real", true))
                .as("a prefix")
                .isTrue();
        assertThat(hasMethod(sources.get("SampleTest"), "real", false))
                .as("not a whole name")
                .isFalse();
        assertThat(hasMethod(sources.get("SampleTest"), "otherOne", false)).isFalse();
        Matcher m = NAMED.matcher("| case | `SampleTest.realOne`, `OtherIT.some…` and `*PropertyTest` |");
        assertThat(m.find()).isTrue();
        assertThat(m.group(1) + "." + m.group(2)).isEqualTo("SampleTest.realOne");
        assertThat(m.find()).isTrue();
        assertThat(m.group(1) + "." + m.group(2) + m.group(3)).isEqualTo("OtherIT.some…");
        assertThat(m.find()).as("a family with *").isFalse();
    }

    private static boolean hasMethod(String source, String name, boolean prefix) {
        return Pattern.compile("\\bvoid\\s+" + Pattern.quote(name) + (prefix ? "[A-Za-z0-9_]*" : "") + "\\s*\\(")
                .matcher(source)
                .find();
    }

    private static List<Path> documents() throws IOException {
        List<Path> docs = new ArrayList<>(List.of(Path.of("README.md")));
        try (Stream<Path> files = Files.walk(Path.of("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    /** Each test source by its class name (top-level file name). */
    private static Map<String, String> testSources() throws IOException {
        Map<String, String> sources = new HashMap<>();
        try (Stream<Path> files = Files.walk(Path.of("src", "test", "java"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String name = p.getFileName().toString();
                sources.put(name.substring(0, name.length() - ".java".length()), Files.readString(p));
            }
        }
        return sources;
    }
}
