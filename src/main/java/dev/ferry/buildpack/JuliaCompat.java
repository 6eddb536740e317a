package dev.ferry.buildpack;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code Project.toml}'s {@code [compat] julia} as Pkg reads a version bound, and names the Julia image tag of
 * the newest Julia it allows — what repo2docker picks from its list of Julia releases. Image tags stand for "the newest
 * release with this prefix" ({@code 1} is the newest 1.x, {@code 1.6} the newest 1.6.x, {@code 1.3.0} exactly 1.3.0),
 * so no list of releases is needed: {@code "1.6"} (caret, Pkg's default) → {@code 1}; {@code "=1.3"} → {@code 1.3.0};
 * {@code "~1.6"} → {@code 1.6}; {@code "0.7"} → {@code 0.7}; {@code "1.6, 1.7"} (a union) → {@code 1};
 * {@code ">= 1.6"} → {@code 1}; {@code "< 1.7"} → {@code 1.6}; {@code "1.6 - 1.8"} → {@code 1.8}.
 */
final class JuliaCompat {

    /** The tag when nothing is asked: the newest 1.x, as repo2docker picks the newest release. */
    static final String NEWEST = "1";

    private static final Pattern VERSION = Pattern.compile("\\d{1,4}(\\.\\d{1,4}){0,2}");
    private static final Pattern SPEC = Pattern.compile("^(=|\\^|~|>=|≥|<=|≤|<)?\\s*(" + VERSION.pattern() + ")$");
    private static final Pattern HYPHEN =
            Pattern.compile("^(" + VERSION.pattern() + ")\\s+-\\s+(" + VERSION.pattern() + ")$");

    private JuliaCompat() {}

    /** The bound itself, once Ferry knows it can read it (so that a plan carries no bound the renderer would refuse). */
    static String checked(String bound) {
        imageTag(bound);
        return bound;
    }

    /** The image tag for the bound; a bound Ferry cannot read is refused with a sentence naming it. */
    static String imageTag(String bound) {
        String best = null;
        for (String part : bound.split(",")) {
            String tag = tagFor(part.strip(), bound);
            if (best == null || compare(tag, best) > 0) {
                best = tag;
            }
        }
        if (best == null) {
            throw refused(bound);
        }
        return best;
    }

    private static String tagFor(String spec, String bound) {
        Matcher hyphen = HYPHEN.matcher(spec);
        if (hyphen.matches()) {
            return hyphen.group(3); // the upper end, with as many parts as written: 1.8 allows every 1.8.x
        }
        Matcher m = SPEC.matcher(spec);
        if (!m.matches()) {
            throw refused(bound);
        }
        String op = m.group(1) == null ? "^" : m.group(1);
        int[] v = parts(m.group(2));
        int n = m.group(2).split("\\.").length;
        return switch (op) {
            case "=" -> v[0] + "." + v[1] + "." + v[2];
            case "~" -> n == 1 ? String.valueOf(v[0]) : v[0] + "." + v[1];
            case ">=", "≥" -> v[0] >= 1 ? String.valueOf(v[0]) : NEWEST;
            case "<=", "≤" -> m.group(2);
            case "<" -> below(v, n, bound);
            default -> caret(v, n);
        };
    }

    /** Pkg's caret: the leftmost non-zero part is fixed. */
    private static String caret(int[] v, int n) {
        if (v[0] > 0 || n == 1) {
            return String.valueOf(v[0]);
        }
        if (v[1] > 0 || n == 2) {
            return "0." + v[1];
        }
        return "0.0." + v[2];
    }

    /** The newest release below an upper bound, as far as a tag can say it: {@code < 1.7} → {@code 1.6}. */
    private static String below(int[] v, int n, String bound) {
        if (n >= 2 && v[1] > 0 && (n == 2 || v[2] == 0)) {
            return v[0] + "." + (v[1] - 1);
        }
        if (n >= 3 && v[2] > 0) {
            return v[0] + "." + v[1] + "." + (v[2] - 1);
        }
        if (v[0] > 1) {
            return String.valueOf(v[0] - 1);
        }
        throw refused(bound);
    }

    private static int[] parts(String version) {
        String[] p = version.split("\\.");
        int[] v = new int[3];
        for (int i = 0; i < p.length; i++) {
            v[i] = Integer.parseInt(p[i]);
        }
        return v;
    }

    /** Orders tags by the newest release each stands for: a shorter tag reaches further ({@code 1} > {@code 1.9}). */
    static int compare(String a, String b) {
        List<Integer> x = reach(a);
        List<Integer> y = reach(b);
        for (int i = 0; i < 3; i++) {
            int c = Integer.compare(x.get(i), y.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static List<Integer> reach(String tag) {
        List<Integer> out = new ArrayList<>();
        for (String p : tag.split("\\.")) {
            out.add(Integer.parseInt(p));
        }
        while (out.size() < 3) {
            out.add(Integer.MAX_VALUE);
        }
        return out;
    }

    private static BuildpackException refused(String bound) {
        return new BuildpackException(
                "Project.toml's [compat] julia = \"" + Detector.printable(bound) + "\" is not a "
                        + "version bound Ferry can read; write it as Pkg documents, e.g. \"1.9\", \"=1.6.7\", \"~1.10\" or \"1.6, 1.7\".");
    }
}
