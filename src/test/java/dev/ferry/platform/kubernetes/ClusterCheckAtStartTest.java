package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import dev.ferry.testing.Ports;

/** The check a replica runs once it has started: what fails is a WARN saying what to fix. */
class ClusterCheckAtStartTest {

    private KubeApiDouble double_;

    @AfterEach
    void stop() {
        double_.close();
    }

    @Test
    void aVerbTheRoleLacksIsLoggedAsAWarningSayingWhatToFix() throws Exception {
        double_ = new KubeApiDouble(ApiServerRules.deployedRoleWithout("events", "watch"));
        var client = double_.portalClient();
        KubeApi api = new KubeApi(KubeApiDouble.NAMESPACE, client, client);
        RegistryProperties registry = new RegistryProperties("127.0.0.1:" + Ports.free() + "/ferry/", "", true, "", "");
        BuildJobs jobs = new BuildJobs(BuildJobsTest.build(""), registry, BuildJobsTest.repoProperties(), "1.0.0");
        ClusterCheckAtStart atStart = new ClusterCheckAtStart(new ClusterCheck(
                api, new SessionPods(SessionPodsTest.session(List.of())), jobs, registry, "", Duration.ofHours(1)));
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ClusterCheckAtStart.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            atStart.run();
        } finally {
            logger.detachAppender(lines);
        }

        List<String> warnings = lines.list.stream()
                .filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
        assertThat(warnings)
                .contains("cluster check failed: may watch events in namespace ferry-test. The service account "
                        + "Ferry runs as may not watch events in namespace ferry-test; Ferry needs it to tell users why a Pod waits "
                        + "or a build cannot start (scheduler, kubelet, Job controller). Add \"watch\" to the rule for events in "
                        + "Ferry's Role (deploy/base/role.yaml) and apply it.");
        assertThat(warnings).anySatisfy(w -> assertThat(w).startsWith("cluster check failed: the registry answers"));
        assertThat(warnings)
                .last()
                .asString()
                .startsWith("cluster check: 2 of ")
                .contains("checks failed");
        assertThat(warnings).noneMatch(w -> w.contains("push"));
        assertThat(double_.rules.dryRuns)
                .as("the dry runs ran, and stored nothing")
                .hasSize(3);
    }
}
