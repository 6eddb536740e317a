package dev.ferry.platform.kubernetes;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.V1LocalObjectReference;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1ResourceRequirements;
import io.kubernetes.client.openapi.models.V1Toleration;

/**
 * What session Pods and build Pods are both given by their settings ({@code ferry.kubernetes.session.*} and
 * {@code ferry.kubernetes.build.*} declare the same names): resources, the nodes they may run on, pull secrets. Turned
 * into the Pod's fields here, once for both.
 */
interface PodSettings {

    String cpuRequest();

    String cpuLimit();

    String memoryRequest();

    String memoryLimit();

    String ephemeralStorageRequest();

    String ephemeralStorageLimit();

    Map<String, String> nodeSelector();

    List<KubernetesProperties.Toleration> tolerations();

    List<String> imagePullSecrets();

    /** CPU, memory and node disk, requested and limited: a Pod filling its disk is evicted alone, not its neighbours. */
    default V1ResourceRequirements resources() {
        return resources(
                cpuRequest(),
                cpuLimit(),
                memoryRequest(),
                memoryLimit(),
                ephemeralStorageRequest(),
                ephemeralStorageLimit());
    }

    /** The node selector, tolerations and pull secrets set on {@code pod}; absent fields where there are none. */
    default V1PodSpec place(V1PodSpec pod) {
        return pod.nodeSelector(nodeSelector().isEmpty() ? null : nodeSelector())
                .tolerations(
                        tolerations().isEmpty()
                                ? null
                                : tolerations().stream()
                                        .map(t -> new V1Toleration()
                                                .key(t.key())
                                                .operator(t.operator())
                                                .value(t.value())
                                                .effect(t.effect())
                                                .tolerationSeconds(t.tolerationSeconds()))
                                        .toList())
                .imagePullSecrets(
                        imagePullSecrets().isEmpty()
                                ? null
                                : imagePullSecrets().stream()
                                        .map(n -> new V1LocalObjectReference().name(n))
                                        .toList());
    }

    static V1ResourceRequirements resources(
            String cpuRequest,
            String cpuLimit,
            String memoryRequest,
            String memoryLimit,
            String storageRequest,
            String storageLimit) {
        return new V1ResourceRequirements()
                .requests(quantities(cpuRequest, memoryRequest, storageRequest))
                .limits(quantities(cpuLimit, memoryLimit, storageLimit));
    }

    private static Map<String, Quantity> quantities(String cpu, String memory, String storage) {
        Map<String, Quantity> q = new LinkedHashMap<>();
        q.put("cpu", new Quantity(cpu));
        q.put("memory", new Quantity(memory));
        q.put("ephemeral-storage", new Quantity(storage));
        return q;
    }
}
