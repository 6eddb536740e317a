package dev.ferry.platform.kubernetes;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The cluster check at start ({@code ferry.kubernetes.check.*}); the full check is {@code java -jar ferry.jar
 * check-cluster} (docs/kubernetes.md).
 *
 * @param atStart once the portal has started, ask the API server whether it may do what it needs (every verb of its
 *                Role), dry-run a session Pod, a build Job and its Pod, and ask the registry; each failed check is
 *                logged as a WARN saying what to fix. It only logs: a replica serves whatever the check says
 */
@ConfigurationProperties("ferry.kubernetes.check")
public record ClusterCheckProperties(@DefaultValue("true") boolean atStart) {}
