package dev.ferry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The engine fixture itself: its notebook base runs Jupyter unprivileged on a read-only root, reached at its address. */
class ContainerEngineTest {

    @Test
    void theNotebookBaseServesJupyterAsAnUnprivilegedUserOnAReadOnlyRoot() throws Exception {
        ContainerEngine engine = ContainerEngine.require();
        ContainerEngine.Container c = engine.run(ContainerEngine.RunSpec.of(engine.notebookBase())
                .args(List.of(
                        "jupyter",
                        "notebook",
                        "--ip=0.0.0.0",
                        "--port=8888",
                        "--no-browser",
                        "--NotebookApp.base_url=/user/x/",
                        "--NotebookApp.port_retries=0"))
                .env(Map.of("JUPYTER_TOKEN", "secret-token", "HOME", "/tmp"))
                .user("1000:1000")
                .readOnly(true)
                .tmpfs(List.of("/tmp")));
        try {
            assertThat(c.status(8888, "/user/x/api/status?token=secret-token", Duration.ofSeconds(60)))
                    .as(c.logs())
                    .isEqualTo(200);
            assertThat(c.status(8888, "/user/x/api/status?token=wrong", Duration.ofSeconds(5)))
                    .isEqualTo(403);
            assertThat(engine.docker("exec", c.id(), "id", "-u").output().strip())
                    .isEqualTo("1000");
            assertThat(engine.docker("exec", c.id(), "touch", "/etc/x").exit())
                    .as("the root filesystem is read-only")
                    .isNotZero();
        } finally {
            c.remove();
        }
    }
}
