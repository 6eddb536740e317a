package dev.ferry.web;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/** Launch links as BinderHub writes them, and the mapping of its {@code labpath}/{@code filepath}/{@code urlpath}. */
final class LaunchLinks {

    private static final String URI_SAFE =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789;,/?:@&=+$-_.!~*'()#";

    private LaunchLinks() {}

    /** {@code /v2/<provider>/<repo>/<ref>}, the repository part URL-encoded for providers whose grammar encodes it. */
    static String launchPath(String provider, String repo, boolean urlEncode, String ref) {
        // encodeRef keeps a repository's slashes (org/repo) and encodes everything else unsafe, CR/LF included
        return "/v2/" + provider + "/" + (urlEncode ? encode(repo) : encodeRef(repo)) + "/" + encodeRef(ref);
    }

    /**
     * The path to open under the server, BinderHub's way: {@code labpath} becomes {@code doc/tree/<path>},
     * {@code filepath} becomes {@code tree/<path>} (both without a trailing slash, like JavaScript's
     * {@code encodeURI}), and both take precedence over {@code urlpath}. Never starts with a slash (it is resolved
     * against the server's URL).
     */
    static String urlpath(String urlpath, String labpath, String filepath) {
        String result = "";
        if (labpath != null) {
            result = "doc/tree/" + encodeUri(trimTrailingSlashes(labpath));
        } else if (filepath != null) {
            result = "tree/" + encodeUri(trimTrailingSlashes(filepath));
        } else if (urlpath != null) {
            result = urlpath;
        }
        while (result.startsWith("/")) {
            result = result.substring(1);
        }
        return staysInsideTheServer(result) ? result : "";
    }

    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");
    private static final Pattern DOT_SEGMENT = Pattern.compile("(^|/)(\\.|%2e){1,2}(/|$)", Pattern.CASE_INSENSITIVE);

    /**
     * The launch page opens {@code new URL(urlpath, <server url>)} with the session's token in its query, so a path
     * that is a URL of its own ({@code https://elsewhere/}, {@code javascript:…}), a protocol-relative one
     * ({@code \\elsewhere}) or one that climbs out of {@code /user/<id>/} ({@code ../<other id>/}) would hand the token
     * to someone else. Such paths are dropped: the server's default page opens instead.
     */
    static boolean staysInsideTheServer(String urlpath) {
        int end = urlpath.length();
        for (char c : new char[] {'?', '#'}) {
            int at = urlpath.indexOf(c);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        String path = urlpath.substring(0, end);
        if (SCHEME.matcher(path).find()
                || path.indexOf('\\') >= 0
                || path.toLowerCase(Locale.ROOT).contains("%5c")) {
            return false;
        }
        for (int i = 0; i < urlpath.length(); i++) {
            if (urlpath.charAt(i) < 0x20 || urlpath.charAt(i) == 0x7f) {
                return false; // browsers drop tabs and newlines from URLs: "java\tscript:" is "javascript:"
            }
        }
        return !DOT_SEGMENT.matcher(path).find();
    }

    private static String trimTrailingSlashes(String path) {
        String p = path;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /** JavaScript's {@code encodeURI}. */
    static String encodeUri(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (b >= 0 && URI_SAFE.indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Refs keep their slashes ({@code feature/x}); everything else that is not safe in a path is encoded. */
    static String encodeRef(String ref) {
        StringBuilder out = new StringBuilder();
        for (String part : ref.split("/", -1)) {
            if (out.length() > 0) {
                out.append('/');
            }
            out.append(encode(part));
        }
        return out.toString();
    }
}
