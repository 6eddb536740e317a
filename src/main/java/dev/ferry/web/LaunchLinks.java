package dev.ferry.web;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Launch links as BinderHub writes them, and the mapping of its {@code labpath}/{@code filepath}/{@code urlpath}. */
final class LaunchLinks {

    private static final String URI_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789;,/?:@&=+$-_.!~*'()#";

    private LaunchLinks() {
    }

    /** {@code /v2/<provider>/<repo>/<ref>}, the repository part URL-encoded for providers whose grammar encodes it. */
    static String launchPath(String provider, String repo, boolean urlEncode, String ref) {
        return "/v2/" + provider + "/" + (urlEncode ? encode(repo) : repo) + "/" + encodeRef(ref);
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
        return result;
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
