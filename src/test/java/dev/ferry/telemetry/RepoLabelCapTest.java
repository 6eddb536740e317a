package dev.ferry.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.ferry.FerryApplication;
import dev.ferry.testing.EventStream;
import dev.ferry.testing.Ports;
import dev.ferry.testing.TempDirs;
import dev.ferry.testing.TestGitServer;

/**
 * {@code binderhub_*_count_total{repo=…}} would grow a time series per distinct repository URL for ever: a script
 * launching endless distinct URLs grows Ferry's memory and the operator's Prometheus. With
 * ferry.metrics.max-repo-labels=3, thirteen distinct repositories give three repo labels and "other".
 */
class RepoLabelCapTest {

    private static final Pattern REPO_LABEL = Pattern.compile(
            "^binderhub_(build|launch)_count_total\\{[^}]*repo=\"([^\"]*)\"[^}]*} ([0-9.]+)$", Pattern.MULTILINE);

    @Test
    void repositoriesBeyondTheLimitAreCountedAsOther() throws Exception {
        int max = 3;
        try (TestGitServer git = new TestGitServer()) {
            int port = Ports.free();
            ConfigurableApplicationContext ferry = new SpringApplicationBuilder(FerryApplication.class)
                    .run(
                            "--server.port=" + port,
                            "--ferry.platform=local",
                            "--spring.jmx.enabled=false",
                            "--ferry.local.work-dir="
                                    + TempDirs.deleteOnExit(Files.createTempDirectory("ferry-label-cap")),
                            "--ferry.repo.allowed-schemes=http",
                            "--ferry.repo.allow-private-addresses=true",
                            "--ferry.metrics.max-repo-labels=" + max,
                            "--logging.level.root=WARN");
            try {
                for (int i = 0; i < max + 10; i++) {
                    // a Dockerfile fails a local build at once, after the repository was resolved: counted per repo
                    String url = git.createRepo("distinct-" + i, Map.of("Dockerfile", "FROM scratch\n"));
                    EventStream.Result result = EventStream.read("http://127.0.0.1:" + port + "/build/git/"
                            + URLEncoder.encode(url, StandardCharsets.UTF_8) + "/main");
                    assertThat(result.last().get("phase"))
                            .as(result.events().toString())
                            .isEqualTo("failed");
                }
                String metrics = HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();

                Set<String> buildLabels = new TreeSet<>();
                Set<String> launchLabels = new TreeSet<>();
                double other = 0;
                Matcher m = REPO_LABEL.matcher(metrics);
                while (m.find()) {
                    (m.group(1).equals("build") ? buildLabels : launchLabels).add(m.group(2));
                    if (m.group(1).equals("build") && m.group(2).equals("other")) {
                        other += Double.parseDouble(m.group(3));
                    }
                }
                assertThat(buildLabels).as(metrics).hasSize(max + 1).contains("other");
                assertThat(launchLabels).hasSize(max + 1).contains("other");
                assertThat(other).as("builds counted under other").isEqualTo(10.0);
            } finally {
                ferry.close();
            }
        }
    }
}
