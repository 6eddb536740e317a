package dev.ferry.platform.kubernetes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeMount;

import dev.ferry.testing.ContainerEngine.RunSpec;

/**
 * One container of a Pod as {@code docker run} runs it: its command (ENTRYPOINT), args (CMD), environment, working
 * directory, user and group (the container's security context over the Pod's), read-only root filesystem, dropped
 * capabilities, no privilege escalation, and its emptyDir mounts as fresh folders. A field it cannot carry over fails
 * the test, so that what a Pod would run and what the test runs cannot drift apart unnoticed.
 */
final class PodAsContainer {

    private PodAsContainer() {}

    /** {@code docker run} of {@code container} in {@code pod}; {@code image}: where the test built the Pod's image. */
    static RunSpec runSpec(V1PodSpec pod, V1Container container, String image) {
        return runSpec(pod, container, image, Map.of());
    }

    /** As above, with the emptyDir volumes named in {@code hostFolders} bound to those host folders (to look into). */
    static RunSpec runSpec(V1PodSpec pod, V1Container container, String image, Map<String, String> hostFolders) {
        RunSpec run = RunSpec.of(image);
        if (container.getCommand() != null && !container.getCommand().isEmpty()) {
            run = run.entrypoint(container.getCommand());
        }
        run = run.args(container.getArgs() == null ? List.of() : container.getArgs());
        Map<String, String> env = new LinkedHashMap<>();
        for (V1EnvVar e : container.getEnv() == null ? List.<V1EnvVar>of() : container.getEnv()) {
            if (e.getValueFrom() != null) {
                throw new AssertionError(
                        "env " + e.getName() + " comes from " + e.getValueFrom() + ": not carried over");
            }
            env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
        }
        run = run.env(env);
        if (container.getWorkingDir() != null) {
            run = run.workdir(container.getWorkingDir());
        }
        V1PodSecurityContext podContext =
                pod.getSecurityContext() == null ? new V1PodSecurityContext() : pod.getSecurityContext();
        V1SecurityContext context =
                container.getSecurityContext() == null ? new V1SecurityContext() : container.getSecurityContext();
        Long uid = context.getRunAsUser() != null ? context.getRunAsUser() : podContext.getRunAsUser();
        Long gid = context.getRunAsGroup() != null ? context.getRunAsGroup() : podContext.getRunAsGroup();
        if (uid != null) {
            // Kubernetes without runAsGroup keeps the image's group; docker's --user uid alone means gid 0 as well
            run = run.user(gid == null ? String.valueOf(uid) : uid + ":" + gid);
        }
        run = run.readOnly(Boolean.TRUE.equals(context.getReadOnlyRootFilesystem()));
        List<String> options = new ArrayList<>();
        if (podContext.getFsGroup() != null) {
            options.addAll(List.of("--group-add", String.valueOf(podContext.getFsGroup())));
        }
        if (context.getCapabilities() != null) {
            for (String drop : nullToEmpty(context.getCapabilities().getDrop())) {
                options.addAll(List.of("--cap-drop", drop));
            }
            for (String add : nullToEmpty(context.getCapabilities().getAdd())) {
                options.addAll(List.of("--cap-add", add));
            }
        }
        if (Boolean.FALSE.equals(context.getAllowPrivilegeEscalation())) {
            options.addAll(List.of("--security-opt", "no-new-privileges"));
        }
        run = run.extra(options);
        Set<String> emptyDirs = new java.util.HashSet<>();
        for (V1Volume v : pod.getVolumes() == null ? List.<V1Volume>of() : pod.getVolumes()) {
            if (v.getEmptyDir() != null) {
                emptyDirs.add(v.getName());
            }
        }
        List<String> tmpfs = new ArrayList<>();
        Map<String, String> binds = new LinkedHashMap<>();
        for (V1VolumeMount m : nullToEmpty(container.getVolumeMounts())) {
            if (!emptyDirs.contains(m.getName())) {
                throw new AssertionError("volume " + m.getName() + " is no emptyDir: the test has no stand-in for it");
            }
            if (hostFolders.containsKey(m.getName())) {
                binds.put(hostFolders.get(m.getName()), m.getMountPath());
            } else {
                tmpfs.add(m.getMountPath());
            }
        }
        return run.tmpfs(tmpfs).binds(binds);
    }

    private static <T> List<T> nullToEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
