package dev.ferry.platform.kubernetes;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kubernetes.client.openapi.ApiException;

import dev.ferry.HealthCheck;

/** The kubernetes platform's health: the API server answers, and the informers have their first full listing. */
final class KubernetesHealth implements HealthCheck.Contributor {

    private final KubeApi api;
    private final KubeState state;
    private final LeaseLeadership leadership;

    KubernetesHealth(KubeApi api, KubeState state, LeaseLeadership leadership) {
        this.api = api;
        this.state = state;
        this.leadership = leadership;
    }

    @Override
    public List<HealthCheck> healthChecks() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("namespace", api.namespace);
        if (!api.sessionsNamespace.equals(api.namespace) || !api.buildsNamespace.equals(api.namespace)) {
            details.put("sessionsNamespace", api.sessionsNamespace);
            details.put("buildsNamespace", api.buildsNamespace);
        }
        details.put("synced", state.synced());
        details.put("leader", leadership.isLeader());
        boolean ok;
        try {
            api.core()
                    .listNamespacedPod(api.sessionsNamespace)
                    .labelSelector(Labels.SESSIONS_SELECTOR)
                    .limit(1)
                    .execute();
            ok = state.synced();
            if (!ok) {
                details.put("message", "connected; still reading Ferry's Pods and Jobs");
            }
        } catch (ApiException e) {
            ok = false;
            details.put("message", KubeApi.describe(e));
        } catch (RuntimeException e) {
            ok = false;
            details.put("message", "the Kubernetes API could not be asked: " + e.getMessage());
        }
        return List.of(new HealthCheck("Kubernetes API", ok, details, false));
    }
}
