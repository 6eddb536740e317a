package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.Parts;

/**
 * Which Jupyter a local session runs: the build's probe, run by Debian's real Python, and the server it leads to.
 * JupyterLab is not packaged in Debian 12 and PyPI is out of reach here, so a real JupyterLab cannot be launched; the
 * probe's "lab" answer is shown with an importable stand-in {@code jupyterlab} package beside Debian's real
 * jupyter_server, and the classic fallback with Debian's real Notebook 6.
 */
class JupyterChoiceTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void jupyter() {
        Parts.requireJupyter();
    }

    private String probe(String pythonPath) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Parts.SYSTEM_PYTHON.toString(), "-c", LocalEnvBuilder.JUPYTER_PROBE)
                .redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", pythonPath);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void anEnvironmentWithJupyterLabRunsJupyterLab() throws Exception {
        Parts.requireJupyterServer();
        Path lab = Files.createDirectories(dir.resolve("jupyterlab"));
        Files.writeString(lab.resolve("__init__.py"), "__version__ = '4.0.0'\n");
        assertThat(probe(dir.toString())).isEqualTo("lab");
        JupyterApp app = JupyterApp.named(probe(dir.toString())).orElseThrow();
        assertThat(List.of(app.module(), app.configClass())).containsExactly("jupyterlab", "ServerApp");
    }

    @Test
    void anEnvironmentWithoutJupyterLabRunsTheClassicNotebook() throws Exception {
        assertThat(probe(dir.toString())).isEqualTo("notebook6");
        JupyterApp app = JupyterApp.named(probe(dir.toString())).orElseThrow();
        assertThat(List.of(app.module(), app.configClass())).containsExactly("notebook", "NotebookApp");
    }

    @Test
    void theClassicServersLabLinksStepAsideForAJupyterLabOnTheClassicServer() throws Exception {
        Path config = dir.resolve("jupyter_notebook_config.py");
        Files.writeString(
                config,
                "class _C:\n    def __getattr__(self, n):\n        setattr(self, n, type(self)())\n"
                        + "        return getattr(self, n)\nc = _C()\n" + Sandbox.CLASSIC_LAB_LINKS);
        Path lab = Files.createDirectories(dir.resolve("stub").resolve("jupyterlab"));
        Files.writeString(lab.resolve("__init__.py"), "__version__ = '2.3.2'\n");
        ProcessBuilder pb = new ProcessBuilder(
                        Parts.SYSTEM_PYTHON.toString(),
                        "-c",
                        "exec(open('" + config + "').read()); " + "import sys; print('ferry_lab_links' in sys.modules)")
                .redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", dir.resolve("stub").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEqualTo("False\n");
    }

    @Test
    void theClassicServersConfigurationAnswersLabLinksAndStillLoadsWithoutTheClassicServer() throws IOException {
        // the configuration is Python that every server loads: it must stay valid where notebook is not importable
        Path config = dir.resolve("jupyter_notebook_config.py");
        Files.writeString(
                config,
                "class _C:\n    def __getattr__(self, n):\n        setattr(self, n, type(self)())\n"
                        + "        return getattr(self, n)\nc = _C()\n" + Sandbox.CLASSIC_LAB_LINKS);
        Path empty = Files.createDirectories(dir.resolve("empty"));
        for (List<String> command : List.of(
                List.of(Parts.SYSTEM_PYTHON.toString(), "-S", config.toString()),
                List.of(
                        Parts.SYSTEM_PYTHON.toString(),
                        "-c",
                        "exec(open('" + config + "').read()); "
                                + "import sys; m = sys.modules['ferry_lab_links']; print(sorted(p for p, h in m.default_handlers))"))) {
            ProcessBuilder pb =
                    new ProcessBuilder(command).redirectErrorStream(true).directory(empty.toFile());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            assertThat(p.exitValue()).as(out).isZero();
            if (!command.contains("-S")) {
                assertThat(out).contains("'/(?:lab|doc)/tree/(.*)'", "'/lab/?'");
            }
        }
    }
}
