package dev.ferry.web;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Launch links as BinderHub writes them, and the mapping of its {@code labpath}/{@code filepath}/{@code urlpath}. */
final class LaunchLinks {

    private LaunchLinks() {
    }

    /** {@code /v2/git/<encoded url>/<ref>}. */
    static String gitLaunchPath(String repoUrl, String ref) {
        return "/v2/git/" + encode(repoUrl) + "/" + encodeRef(ref);
    }

    /**
     * The path to open under the server, BinderHub's way: {@code labpath} becomes {@code doc/tree/<path>},
     * {@code filepath} becomes {@code tree/<path>}, and both take precedence over {@code urlpath}. Never starts with
     * a slash (it is appended to the server's URL).
     */
    static String urlpath(String urlpath, String labpath, String filepath) {
        String result = "";
        if (labpath != null && !labpath.isBlank()) {
            String p = strip(labpath);
            while (p.endsWith("/")) {
                p = p.substring(0, p.length() - 1);
            }
            result = "doc/tree/" + p;
        } else if (filepath != null && !filepath.isBlank()) {
            result = "tree/" + strip(filepath);
        } else if (urlpath != null && !urlpath.isBlank()) {
            result = strip(urlpath);
        }
        return result;
    }

    private static String strip(String path) {
        String p = path.trim();
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        return p;
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
