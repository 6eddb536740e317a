package dev.ferry.repo;

import java.util.regex.Pattern;

/** Validation of ref names that arrive from links (git's check-ref-format rules, plus a length bound). */
final class GitRefs {

    static final Pattern FULL_COMMIT = Pattern.compile("^[0-9a-f]{40}$");
    private static final int MAX_REF_LENGTH = 255;

    private GitRefs() {}

    static boolean isFullCommit(String ref) {
        return FULL_COMMIT.matcher(ref).matches();
    }

    /** Throws a {@link RepoException} when the text cannot be a git ref name. */
    static String requireValid(String ref) {
        if (ref == null || ref.isEmpty()) {
            throw new RepoException(
                    400, "The link names no ref. Add a branch, tag or commit after the repository, e.g. …/HEAD.");
        }
        if (ref.length() > MAX_REF_LENGTH) {
            throw new RepoException(400, "The ref is longer than " + MAX_REF_LENGTH + " characters.");
        }
        boolean bad = ref.startsWith("/")
                || ref.endsWith("/")
                || ref.endsWith(".")
                || ref.endsWith(".lock")
                || ref.contains("..")
                || ref.contains("@{")
                || ref.contains("//")
                || ref.startsWith("-")
                || ref.contains("/.")
                || ref.startsWith(".");
        for (int i = 0; i < ref.length() && !bad; i++) {
            char c = ref.charAt(i);
            bad = c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*'
                    || c == '[' || c == '\\';
        }
        if (bad) {
            throw new RepoException(400, "'" + Urls.printable(ref) + "' is not a valid branch, tag or commit name.");
        }
        return ref;
    }

    /** {@code main} for {@code master} and the other way round (BinderHub's fallback for renamed default branches). */
    static String masterMainSibling(String ref) {
        return "master".equals(ref) ? "main" : "main".equals(ref) ? "master" : null;
    }
}
