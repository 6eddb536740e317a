package dev.ferry.platform.kubernetes;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ferry.FerryProperties;
import dev.ferry.build.BuildProperties;
import dev.ferry.platform.OnPlatform;
import dev.ferry.platform.Platforms;

/**
 * The {@link ClusterCheck} once a replica has started, in the background, into the log: a Role missing a verb or a
 * policy refusing session Pods shows in the first lines an operator reads, not at the first launch or the first sweep
 * of old workshops. It never holds readiness: the portal starts and serves while the API server is down (its informers
 * catch up), and a gap that breaks one feature must not take every replica out of service. Without the push
 * credentials (build Pods mount them, the portal may not read Secrets) the push check is left to {@code check-cluster}.
 */
final class ClusterCheckAtStart implements ApplicationListener<ApplicationReadyEvent> {

    private static final Logger log = LoggerFactory.getLogger(ClusterCheckAtStart.class);

    private final ClusterCheck check;

    ClusterCheckAtStart(ClusterCheck check) {
        this.check = check;
    }

    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        Thread thread = new Thread(this::run, "ferry-cluster-check");
        thread.setDaemon(true);
        thread.start();
    }

    /** Runs the check and logs it: each failed check a WARN with what to fix, then one line of summary. */
    List<ClusterCheck.Row> run() {
        try {
            List<ClusterCheck.Row> rows = check.run(null);
            rows.stream()
                    .filter(r -> !r.passed())
                    .forEach(r -> log.warn("cluster check failed: {}. {}", r.check(), r.fix()));
            long failed = rows.stream().filter(r -> !r.passed()).count();
            if (failed == 0) {
                log.info(
                        "cluster check: all {} checks passed (permissions, dry runs, registry); java -jar ferry.jar "
                                + "check-cluster also checks the push credentials",
                        rows.size());
            } else {
                log.warn(
                        "cluster check: {} of {} checks failed (see above); java -jar ferry.jar check-cluster prints "
                                + "the whole table",
                        failed,
                        rows.size());
            }
            return rows;
        } catch (RuntimeException e) {
            log.warn("the cluster check at start could not run: {}", e.getMessage());
            return List.of();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @OnPlatform(Platforms.KUBERNETES)
    @EnableConfigurationProperties(ClusterCheckProperties.class)
    static class AtStartConfiguration {

        @Bean
        @ConditionalOnBooleanProperty(name = "ferry.kubernetes.check.at-start", matchIfMissing = true)
        ClusterCheckAtStart clusterCheckAtStart(
                KubeApi api,
                SessionPods pods,
                BuildJobs jobs,
                RegistryProperties registry,
                FerryProperties ferry,
                BuildProperties build) {
            return new ClusterCheckAtStart(
                    new ClusterCheck(api, pods, jobs, registry, ferry.publicUrl(), build.timeout()));
        }
    }
}
