package dev.ferry.platform.kubernetes;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;

import dev.ferry.buildpack.BuildpackCommands;

/**
 * A test stand-in for the Job controller and the build pod's kubelet (there is no cluster here): for each build Job it
 * creates the Job's pod from its template (with the Job's labels and owner reference) through the API double's
 * admission — a refusal becomes the controller's {@code FailedCreate} Warning event on the Job, and no Pod — then runs the pod's real {@code prepare} step in-process with the init container's arguments and
 * environment (a real JGit fetch of the commit from the test's git server, real environment detection, the real
 * Dockerfile), serves each step's output as the pod's log, and writes the container statuses and the Job's condition.
 * The image build itself is not run (no container engine): the builder step reads the Dockerfile {@code prepare} wrote
 * and succeeds, or fails when {@link #failBuilds} is set. Counts the Jobs it saw, to prove deduplication.
 */
final class FakeJobController implements AutoCloseable {

    volatile boolean failBuilds;
    /** When set: the kubelet cannot pull the {@code prepare} image (ErrImagePull with this message) and nothing runs. */
    volatile String pullFailure;
    /** When set: admission refuses the Job's Pod with this message (a {@code FailedCreate} event on the Job, no Pod). */
    volatile String refuseCreate;

    final AtomicInteger jobsSeen = new AtomicInteger();
    /** Pods of Jobs the API server refused (admission), each reported as a {@code FailedCreate} event on its Job. */
    final AtomicInteger podsRefused = new AtomicInteger();

    final Map<String, String> prepareOutput = new ConcurrentHashMap<>();
    /** The build context {@code prepare} wrote, by image name: what the built image's home directory would hold. */
    final Map<String, Path> images = new ConcurrentHashMap<>();

    private final KubeApiDouble api;
    private final Watch watch;
    private final List<Path> dirs = new ArrayList<>();

    FakeJobController(KubeApiDouble api) {
        this.api = api;
        this.watch = api.fabric8()
                .batch()
                .v1()
                .jobs()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Job job) {
                        if (action == Action.ADDED) {
                            jobsSeen.incrementAndGet();
                            Thread t = new Thread(() -> run(job), "fake-job-controller");
                            t.setDaemon(true);
                            t.start();
                        } else if (action == Action.DELETED) {
                            // the garbage collector removes a deleted Job's Pods (propagation Background)
                            api.fabric8()
                                    .pods()
                                    .inNamespace(KubeApiDouble.NAMESPACE)
                                    .withLabel(
                                            KubernetesBuilder.CONTROLLER_UID,
                                            job.getMetadata().getUid())
                                    .delete();
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {}
                });
    }

    private void run(Job job) {
        String jobName = job.getMetadata().getName();
        String uid = job.getMetadata().getUid();
        String hex = uid.replace("-", "");
        String podName = jobName + "-"
                + hex.substring(hex.length() - 5); // a new Pod for a Job created again (the mock's uids count up)
        var template = job.getSpec().getTemplate();
        String refusal = refuseCreate;
        if (refusal != null) { // as the Job controller reports it: an event on the Job, and it tries again later
            failedCreate(job, refusal);
            return;
        }
        var templateMeta = template.getMetadata() != null
                ? template.getMetadata()
                : new io.fabric8.kubernetes.api.model.ObjectMeta();
        try {
            // the Pod from the Job's template, through the API server's admission like any other (overhead, Pod
            // Security)
            api.fabric8()
                    .pods()
                    .inNamespace(KubeApiDouble.NAMESPACE)
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName(podName)
                            .withNamespace(KubeApiDouble.NAMESPACE)
                            .withLabels(templateMeta.getLabels())
                            .addToLabels("batch.kubernetes.io/job-name", jobName)
                            .addToLabels("job-name", jobName)
                            .addToLabels(KubernetesBuilder.CONTROLLER_UID, uid)
                            .addToLabels("controller-uid", uid)
                            .withAnnotations(templateMeta.getAnnotations())
                            .addNewOwnerReference()
                            .withApiVersion("batch/v1")
                            .withKind("Job")
                            .withName(jobName)
                            .withUid(uid)
                            .withController(true)
                            .withBlockOwnerDeletion(true)
                            .endOwnerReference()
                            .endMetadata()
                            .withSpec(template.getSpec())
                            .build())
                    .create();
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            podsRefused.incrementAndGet();
            failedCreate(
                    job,
                    e.getStatus() != null && e.getStatus().getMessage() != null
                            ? e.getStatus().getMessage()
                            : e.getMessage());
            return;
        }

        Container prepare = template.getSpec().getInitContainers().get(0);
        String pull = pullFailure;
        if (pull != null) { // the kubelet retries the pull with a back-off; the Pod waits in Pending meanwhile
            podStatus(
                    podName,
                    List.of(new ContainerStatusBuilder()
                            .withName("prepare")
                            .withImage(prepare.getImage())
                            .withImageID("")
                            .withReady(false)
                            .withRestartCount(0)
                            .withNewState()
                            .withNewWaiting()
                            .withReason("ErrImagePull")
                            .withMessage(pull)
                            .endWaiting()
                            .endState()
                            .build()),
                    List.of());
            return;
        }
        Path workspace;
        try {
            workspace = Files.createTempDirectory("ferry-fake-build");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        synchronized (dirs) {
            dirs.add(workspace);
        }
        List<String> args = new ArrayList<>(prepare.getArgs());
        args.set(args.indexOf("--out") + 1, workspace.toString());
        Map<String, String> env = new HashMap<>();
        prepare.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        // the kubelet reads the container's terminationMessagePath into its status: here a file of the workspace's
        Path terminationLog = workspace.resolveSibling(workspace.getFileName() + "-termination-log");
        env.put("FERRY_TERMINATION_LOG", terminationLog.toString());
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int code;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            code = BuildpackCommands.run(args.toArray(String[]::new), out, out, env);
        }
        String prepareLog = output.toString(StandardCharsets.UTF_8);
        prepareOutput.put(jobName, prepareLog);
        log(podName, "prepare", prepareLog);
        String terminationMessage = null;
        try {
            terminationMessage = Files.exists(terminationLog) ? Files.readString(terminationLog) : null;
            Files.deleteIfExists(terminationLog);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        podStatus(podName, List.of(terminated("prepare", code, terminationMessage)), List.of());
        if (code != 0) {
            finish(jobName, false);
            return;
        }
        String dockerfile;
        try {
            dockerfile = Files.readString(workspace.resolve(".ferry/Dockerfile"));
        } catch (java.io.IOException e) {
            dockerfile = null;
        }
        boolean ok = dockerfile != null && !failBuilds;
        if (ok) {
            images.put(job.getMetadata().getAnnotations().get("ferry.dev/image"), workspace);
        }
        String buildLog = "#1 [internal] load build definition from Dockerfile\n"
                + "#1 transferring dockerfile: " + (dockerfile == null ? 0 : dockerfile.length()) + "B done\n"
                + (ok
                        ? "#9 exporting to image\n#9 pushing layers done\n"
                        : "#7 [4/6] RUN pip install --no-cache-dir -r requirements.txt\n"
                                + "#7 ERROR: No matching distribution found for not-a-real-package\n"
                                + "ERROR: failed to solve: process \"/bin/sh -c pip install -r requirements.txt\" did not complete successfully: exit code: 1\n");
        log(podName, "build", buildLog);
        podStatus(podName, List.of(terminated("prepare", 0)), List.of(terminated("build", ok ? 0 : 1)));
        finish(jobName, ok);
    }

    /** The Job controller's Warning when the API server refuses the Job's Pod: reason FailedCreate, "Error creating: ...". */
    private void failedCreate(Job job, String refusal) {
        String jobName = job.getMetadata().getName();
        api.fabric8()
                .v1()
                .events()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .resource(new io.fabric8.kubernetes.api.model.EventBuilder()
                        .withNewMetadata()
                        .withName(jobName + "." + Long.toHexString(System.nanoTime()))
                        .withNamespace(KubeApiDouble.NAMESPACE)
                        .endMetadata()
                        .withNewInvolvedObject()
                        .withKind("Job")
                        .withApiVersion("batch/v1")
                        .withName(jobName)
                        .withNamespace(KubeApiDouble.NAMESPACE)
                        .withUid(job.getMetadata().getUid())
                        .endInvolvedObject()
                        .withNewSource()
                        .withComponent("job-controller")
                        .endSource()
                        .withReason("FailedCreate")
                        .withType("Warning")
                        .withMessage("Error creating: " + refusal)
                        .withCount(1)
                        .withFirstTimestamp(Instant.now().toString())
                        .withLastTimestamp(Instant.now().toString())
                        .build())
                .create();
    }

    private void log(String pod, String container, String text) {
        api.server()
                .expect()
                .get()
                .withPath("/api/v1/namespaces/" + KubeApiDouble.NAMESPACE + "/pods/" + pod + "/log?container="
                        + container + "&follow=true")
                .andReturn(200, text)
                .always();
    }

    private static ContainerStatus terminated(String name, int code) {
        return terminated(name, code, null);
    }

    private static ContainerStatus terminated(String name, int code, String message) {
        return new ContainerStatusBuilder()
                .withName(name)
                .withImage("fake")
                .withImageID("")
                .withReady(false)
                .withRestartCount(0)
                .withNewState()
                .withNewTerminated()
                .withExitCode(code)
                .withReason(code == 0 ? "Completed" : "Error")
                .withMessage(message)
                .endTerminated()
                .endState()
                .build();
    }

    private void podStatus(String pod, List<ContainerStatus> init, List<ContainerStatus> main) {
        api.fabric8()
                .pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName(pod)
                .editStatus(p -> new PodBuilder(p)
                        .editOrNewStatus()
                        .withPhase(main.isEmpty() ? "Pending" : "Succeeded")
                        .withInitContainerStatuses(init)
                        .withContainerStatuses(main)
                        .endStatus()
                        .build());
    }

    private void finish(String job, boolean succeeded) {
        String now = Instant.now().toString();
        api.fabric8()
                .batch()
                .v1()
                .jobs()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName(job)
                .editStatus(j -> new JobBuilder(j)
                        .editOrNewStatus()
                        .withSucceeded(succeeded ? 1 : 0)
                        .withFailed(succeeded ? 0 : 1)
                        .withCompletionTime(succeeded ? now : null)
                        .withConditions(new JobConditionBuilder()
                                .withType(succeeded ? "Complete" : "Failed")
                                .withStatus("True")
                                .withReason(succeeded ? null : "BackoffLimitExceeded")
                                .withLastTransitionTime(now)
                                .build())
                        .endStatus()
                        .build());
    }

    @Override
    public void close() {
        watch.close();
        synchronized (dirs) {
            dirs.forEach(d -> org.springframework.util.FileSystemUtils.deleteRecursively(d.toFile()));
        }
    }
}
