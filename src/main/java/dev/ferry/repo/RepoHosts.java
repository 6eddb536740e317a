package dev.ferry.repo;

import java.util.regex.Pattern;

/** Shared helpers of the hosted providers (gh, gl, gist). */
final class RepoHosts {

    /** Owner, repository and gist names: what GitHub and GitLab allow, never {@code .} or {@code ..}. */
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9_.-]{1,100}$");

    private RepoHosts() {}

    static String base(String host) {
        return host.endsWith("/") ? host.substring(0, host.length() - 1) : host;
    }

    /** The text as a regular expression that matches exactly it, valid in Java and in JavaScript (no \\Q…\\E). */
    static String regexLiteral(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            if ("\\^$.|?*+()[]{}/".indexOf(c) >= 0) {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    static String requireName(String value, String what) {
        if (!NAME.matcher(value).matches() || value.equals(".") || value.equals("..")) {
            throw new RepoException(400, "'" + Urls.printable(value) + "' is not a valid " + what + ".");
        }
        return value;
    }
}
