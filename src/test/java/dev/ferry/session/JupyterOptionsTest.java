package dev.ferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The Jupyter options both platforms start sessions with; the origin pattern must be a Python regular expression. */
class JupyterOptionsTest {

    static SessionSpec spec(List<String> origins) {
        return new SessionSpec("abcdefghijklmnopqrstuvwxyz234567", "token", null, null, Map.of(), origins);
    }

    @Test
    void severalOriginsBecomeAnAnchoredPythonPatternWithoutJavaQuoting() {
        List<String> options =
                JupyterOptions.forApp("ServerApp", spec(List.of("https://a.example", "https://b.example:8443")));
        assertThat(options)
                .contains("--ServerApp.allow_origin_pat=^(https:\\/\\/a\\.example|https:\\/\\/b\\.example:8443)$")
                .noneMatch(o -> o.contains("\\Q"));
    }

    @Test
    void oneOriginOrAnyIsAllowOriginAndTheClassicServerScopesItsXsrfCookie() {
        assertThat(JupyterOptions.forApp("NotebookApp", spec(List.of("*"))))
                .contains(
                        "--NotebookApp.allow_origin=*",
                        "--NotebookApp.base_url=/user/abcdefghijklmnopqrstuvwxyz234567/",
                        "--NotebookApp.tornado_settings={\"xsrf_cookie_kwargs\": {\"path\": \"/user/abcdefghijklmnopqrstuvwxyz234567/\"}}");
        assertThat(JupyterOptions.forApp("ServerApp", spec(List.of("https://a.example"))))
                .contains("--ServerApp.allow_origin=https://a.example")
                .noneMatch(o -> o.contains("tornado_settings"));
        assertThat(JupyterOptions.forApp("ServerApp", spec(List.of()))).noneMatch(o -> o.contains("allow_origin"));
    }
}
