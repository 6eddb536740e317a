package dev.ferry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
                .args(List.of("jupyter", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser",
                        "--NotebookApp.base_url=/user/x/", "--NotebookApp.port_retries=0"))
                .env(Map.of("JUPYTER_TOKEN", "secret-token", "HOME", "/tmp"))
                .user("1000:1000").readOnly(true).tmpfs(List.of("/tmp")));
        try {
            String url = "http://" + c.ip() + ":8888/user/x/api/status";
            assertThat(status(url + "?token=secret-token", Duration.ofSeconds(60))).as(c.logs()).isEqualTo(200);
            assertThat(status(url + "?token=wrong", Duration.ofSeconds(5))).isEqualTo(403);
            assertThat(engine.docker("exec", c.id(), "id", "-u").output().strip()).isEqualTo("1000");
            assertThat(engine.docker("exec", c.id(), "touch", "/etc/x").exit()).as("the root filesystem is read-only").isNotZero();
        } finally {
            c.remove();
        }
    }

    /** The first status answered within {@code wait} (the server needs a moment to start); 0 when none. */
    static int status(String url, Duration wait) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (java.io.IOException notYet) {
                Thread.sleep(300);
            }
        }
        return 0;
    }
}
