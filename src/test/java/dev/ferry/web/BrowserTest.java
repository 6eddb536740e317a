package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.platform.local.LocalPlatformTestSupport;
import dev.ferry.testing.Parts;
import dev.ferry.workshop.WorkshopService;

/**
 * The web experience in a real browser: Debian's Chromium, driven by playwright-core from {@code frontend/tests},
 * against this Ferry with a real git server and real Jupyter. Screenshots land in {@code target/browser-screenshots}.
 * The build API is limited to one launch a minute without a token: a person launching from pages is never limited.
 */
@TestPropertySource(properties = {"ferry.rate-limit.requests-per-minute=1", "ferry.rate-limit.burst=1"})
class BrowserTest extends LocalPlatformTestSupport {

    @Autowired
    WorkshopService workshops;

    @DynamicPropertySource
    static void browser(DynamicPropertyRegistry registry) {
        registry.add("ferry.repo.github-host", () -> "http://127.0.0.1:" + GIT.port() + "/git");
        registry.add("ferry.admin.password", () -> "browser-test-secret");
    }

    @AfterEach
    void stop() {
        workshops.all().forEach(w -> workshops.end(w.slug()));
        stopAllSessions();
    }

    @Test
    void peopleCanLaunchWatchFailRelaunchAndOperate() throws Exception {
        Path frontend = Parts.requireBrowser();
        GIT.createRepo(
                "octo/good",
                files(
                        "notebooks/intro.ipynb",
                        "{\"cells\": [{\"cell_type\": \"markdown\", \"metadata\": {}, \"source\": [\"# Hello from Ferry\"]}], "
                                + "\"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}",
                        "requirements.txt",
                        "ipykernel\n"));
        GIT.createRepo("octo/broken", files("requirements.txt", "not a valid requirement line!\n"));
        String workshop = workshops
                .create(new WorkshopService.CreateRequest(
                        "Browser workshop",
                        "gh/octo/good/main",
                        Instant.now().plusSeconds(300),
                        Instant.now().plusSeconds(3600),
                        1,
                        0,
                        base()))
                .slug();
        Path screenshots = Path.of("target", "browser-screenshots").toAbsolutePath();
        Path config = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempFile("ferry-browser", ".json"));
        Files.writeString(
                config,
                JsonMapper.builder()
                        .build()
                        .writeValueAsString(Map.of(
                                "base", base(),
                                "githubHost", "http://127.0.0.1:" + GIT.port() + "/git",
                                "repos", Map.of("good", "octo/good", "broken", "octo/broken"),
                                "workshop", workshop,
                                "admin", Map.of("username", "admin", "password", "browser-test-secret"),
                                "screenshots", screenshots.toString())));

        Process p = new ProcessBuilder("node", "tests/browser.mjs", config.toString())
                .directory(frontend.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println(out);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("all browser checks passed");
        Files.deleteIfExists(config);
    }
}
