package dev.ferry;

import java.util.List;
import java.util.Map;

/**
 * One check of BinderHub's {@code /health}: a service name, whether it is well, and details.
 *
 * @param ignoreFailure a failure is reported but does not make the whole installation unhealthy (BinderHub's
 *                      {@code _ignore_failure}, used for quotas: full is not broken)
 */
public record HealthCheck(String service, boolean ok, Map<String, Object> details, boolean ignoreFailure) {

    /** Contributes checks to {@code /health} (the platform: can it run notebooks; the installation: quotas). */
    public interface Contributor {
        List<HealthCheck> healthChecks();
    }
}
