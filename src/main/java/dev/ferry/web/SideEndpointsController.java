package dev.ferry.web;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.core.env.Environment;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import dev.ferry.HealthCheck;
import dev.ferry.capacity.Capacity;
import dev.ferry.platform.Platforms;
import dev.ferry.repo.ProviderDisplay;
import dev.ferry.repo.RepoProviders;
import dev.ferry.session.SessionService;

/**
 * BinderHub's side endpoints: {@code /health} (its JSON shape, 503 when a check that counts fails), {@code /versions},
 * {@code /api/repoproviders} (the providers' display configurations, as a list) and {@code /metrics} (Prometheus).
 */
@RestController
class SideEndpointsController {

    private final List<HealthCheck.Contributor> contributors;
    private final SessionService sessions;
    private final RepoProviders providers;
    private final ObjectProvider<PrometheusMeterRegistry> prometheus;
    private final ObjectProvider<BuildProperties> buildInfo;
    private final Environment environment;
    private final Capacity capacity;

    SideEndpointsController(
            List<HealthCheck.Contributor> contributors,
            SessionService sessions,
            RepoProviders providers,
            ObjectProvider<PrometheusMeterRegistry> prometheus,
            ObjectProvider<BuildProperties> buildInfo,
            Environment environment,
            Capacity capacity) {
        this.capacity = capacity;
        this.contributors = contributors;
        this.sessions = sessions;
        this.providers = providers;
        this.prometheus = prometheus;
        this.buildInfo = buildInfo;
        this.environment = environment;
    }

    @RequestMapping(
            path = "/health",
            method = {RequestMethod.GET, RequestMethod.HEAD},
            produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Map<String, Object>> health() {
        List<HealthCheck> checks = new ArrayList<>();
        contributors.forEach(c -> checks.addAll(c.healthChecks()));
        Map<String, Object> sessionCount = new LinkedHashMap<>();
        int running = sessions.sessions().size();
        sessionCount.put("sessions", running);
        sessionCount.put("quota", capacity.total() > 0 ? capacity.total() : null);
        sessionCount.put("waiting", capacity.waiting());
        checks.add(new HealthCheck(
                "Session quota", capacity.total() <= 0 || running < capacity.total(), sessionCount, true));
        boolean ok = checks.stream().allMatch(c -> c.ok() || c.ignoreFailure());
        List<Map<String, Object>> shown = new ArrayList<>();
        for (HealthCheck c : checks) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("service", c.service());
            entry.put("ok", c.ok());
            entry.putAll(c.details());
            if (c.ignoreFailure()) {
                entry.put("_ignore_failure", true);
            }
            shown.add(entry);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ok", ok);
        body.put("checks", shown);
        return ResponseEntity.status(ok ? 200 : 503)
                .cacheControl(CacheControl.noStore())
                .body(body);
    }

    @GetMapping(path = "/versions", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<Versions> versions() {
        Versions body = new Versions(new BuilderInfo(Platforms.chosen(environment), "ferry"), version(), version());
        return ResponseEntity.ok().header("Access-Control-Allow-Origin", "*").body(body);
    }

    /** BinderHub's {@code /versions}, plus Ferry's own version. */
    record Versions(@JsonProperty("builder_info") BuilderInfo builderInfo, String binderhub, String ferry) {}

    record BuilderInfo(@JsonProperty("build_platform") String buildPlatform, String builder) {}

    @GetMapping(path = "/api/repoproviders", produces = MediaType.APPLICATION_JSON_VALUE)
    List<RepoProviderEntry> repoProviders() {
        return providers.all().stream()
                .map(p -> RepoProviderEntry.of(p.display()))
                .toList();
    }

    /** One provider in BinderHub's {@code /api/repoproviders}: what the home page's form needs to offer it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RepoProviderEntry(
            String id, String displayName, RepoField repo, RefField ref, SpecField spec, DetectField detect) {

        static RepoProviderEntry of(ProviderDisplay d) {
            return new RepoProviderEntry(
                    d.id(),
                    d.displayName(),
                    new RepoField(d.repoLabel(), d.placeholder(), d.urlEncode()),
                    new RefField(d.refEnabled(), d.refDefault()),
                    new SpecField(d.validateRegex()),
                    d.detectRegex() == null ? null : new DetectField(d.detectRegex()));
        }
    }

    record RepoField(String label, String placeholder, boolean urlEncode) {}

    record RefField(
            boolean enabled, @JsonProperty("default") String defaultRef) {}

    record SpecField(String validateRegex) {}

    record DetectField(String regex) {}

    @GetMapping(path = "/metrics", produces = "text/plain;version=0.0.4;charset=utf-8")
    ResponseEntity<String> metrics() {
        PrometheusMeterRegistry registry = prometheus.getIfAvailable();
        if (registry == null) {
            return ResponseEntity.status(404).body("Prometheus metrics are not enabled.\n");
        }
        return ResponseEntity.ok().cacheControl(CacheControl.noStore()).body(registry.scrape());
    }

    private String version() {
        BuildProperties info = buildInfo.getIfAvailable();
        return info == null ? "development" : info.getVersion();
    }
}
