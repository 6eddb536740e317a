package dev.ferry.session;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The options every platform starts a session's Jupyter server with, for one configuration class ({@code NotebookApp}
 * for notebook &lt; 7, {@code ServerApp} for jupyter_server): base URL, no port retries, remote access and forwarded
 * headers behind the proxy, the classic server's {@code _xsrf} cookie scoped to the session, and the page origins that
 * may call it.
 */
public final class JupyterOptions {

    private JupyterOptions() {}

    public static List<String> forApp(String cls, SessionSpec spec) {
        List<String> options = new ArrayList<>(List.of(
                "--" + cls + ".base_url=" + spec.baseUrl(),
                "--" + cls + ".port_retries=0",
                "--" + cls + ".allow_remote_access=True",
                "--" + cls + ".trust_xheaders=True"));
        if (cls.equals("NotebookApp")) {
            // notebook < 7 sets its _xsrf cookie on path "/": sessions on one host would overwrite (and could set) each
            // other's. jupyter_server already scopes it to base_url; this does the same for the classic server.
            options.add(
                    "--NotebookApp.tornado_settings={\"xsrf_cookie_kwargs\": {\"path\": \"" + spec.baseUrl() + "\"}}");
        }
        List<String> origins = spec.allowedOrigins();
        if (origins.contains("*") || origins.size() == 1) {
            options.add("--" + cls + ".allow_origin=" + (origins.contains("*") ? "*" : origins.get(0)));
        } else if (!origins.isEmpty()) {
            options.add("--" + cls + ".allow_origin_pat="
                    + origins.stream()
                            .map(JupyterOptions::pythonRegexLiteral)
                            .collect(Collectors.joining("|", "^(", ")$")));
        }
        return options;
    }

    /** {@code text} as a literal in a Python regular expression (Python has no {@code \Q…\E}). */
    static String pythonRegexLiteral(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            if (".^$*+?{}[]\\|()/-".indexOf(c) >= 0) {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }
}
