package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;

/**
 * A test stand-in for the kubelet of session Pods (there is no cluster here): for each session Pod it starts a real
 * Debian Jupyter server with the Pod's arguments and environment on its own loopback address 127.0.0.N (so that the
 * Pod's {@code --port=8888} is what is used), writes events, {@code podIP}, phase Running and the Ready condition back
 * once the Pod's readiness path answers, and stops the server when the Pod is deleted. It plays the scheduler's part too.
 * {@link #mode} makes the next Pods behave the way a cluster's do: an image that is not there, a registry that fails
 * twice and then serves, no room and none coming, no room until an autoscaler's new node arrives.
 */
final class FakeKubelet implements AutoCloseable {

    enum Mode {
        RUN,
        /** The registry says the image does not exist. */
        IMAGE_PULL_FAILS,
        /** The registry times out, then answers 503, then serves the image (a kubelet retries with back-off). */
        IMAGE_PULL_FLAKY,
        /** No node has room, and the autoscaler cannot add one. */
        UNSCHEDULABLE,
        /** No node has room; the autoscaler adds one, which is ready {@link #SCALE_UP_TIME} later. */
        SCALE_UP,
        /** The container runs, its server never answers the readiness probe. */
        NEVER_READY
    }

    static final String NO_ROOM =
            "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
                    + "3 No preemption victims found for incoming pod.";
    static final Duration SCALE_UP_TIME = Duration.ofSeconds(3);

    /**
     * Where this JVM's Pod addresses start: at random, because the suites of other worktrees on the same machine run
     * Pods on 127.0.0.N:8888 too (a shared start made the first launch of two concurrent runs fail with exit code 1).
     */
    private static final AtomicInteger NEXT_ADDRESS =
            new AtomicInteger(java.util.concurrent.ThreadLocalRandom.current().nextInt(20, 240));

    volatile Mode mode = Mode.RUN;
    private final KubeApiDouble api;
    private final Watch watch;
    private final Map<String, Process> servers = new ConcurrentHashMap<>();
    private final Map<String, Path> homes = new ConcurrentHashMap<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final java.util.function.Function<String, Path> images;

    /** {@code images}: the content an image would put in the home directory (the build context), by image name. */
    FakeKubelet(KubeApiDouble api, java.util.function.Function<String, Path> images) {
        this.api = api;
        this.images = images;
        this.watch = api.fabric8()
                .pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withLabel("app.kubernetes.io/component", "session")
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Pod pod) {
                        String name = pod.getMetadata().getName();
                        if (action == Action.ADDED && !servers.containsKey(name)) {
                            Thread t = new Thread(() -> run(pod), "fake-kubelet-" + name);
                            t.setDaemon(true);
                            t.start();
                        } else if (action == Action.DELETED) {
                            stop(name);
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {}
                });
    }

    int running() {
        return (int) servers.values().stream().filter(Process::isAlive).count();
    }

    private void run(Pod pod) {
        String name = pod.getMetadata().getName();
        try {
            Mode mode = this.mode;
            if (mode == Mode.UNSCHEDULABLE || mode == Mode.SCALE_UP) {
                // the scheduler finds no room and says so, as a condition and (again, a while later) as events
                status(
                        name,
                        b -> b.editOrNewStatus()
                                .withPhase("Pending")
                                .withConditions(new PodConditionBuilder()
                                        .withType("PodScheduled")
                                        .withStatus("False")
                                        .withReason("Unschedulable")
                                        .withMessage(NO_ROOM)
                                        .build())
                                .endStatus());
                event(name, "FailedScheduling", NO_ROOM);
                if (mode == Mode.UNSCHEDULABLE) {
                    event(name, "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached");
                    event(name, "FailedScheduling", NO_ROOM);
                    return;
                }
                event(name, "TriggeredScaleUp", "pod triggered scale-up: [{ferry-pool 3->4 (max: 10)}]");
                Thread.sleep(SCALE_UP_TIME.toMillis() / 2);
                event(name, "FailedScheduling", NO_ROOM);
                Thread.sleep(SCALE_UP_TIME.toMillis() / 2);
            }
            event(name, "Scheduled", "Successfully assigned " + KubeApiDouble.NAMESPACE + "/" + name + " to fake-node");
            String image = pod.getSpec().getContainers().get(0).getImage();
            event(name, "Pulling", "Pulling image \"" + image + "\"");
            if (mode == Mode.IMAGE_PULL_FAILS) {
                pullError(
                        name,
                        image,
                        "ErrImagePull",
                        "Error response from daemon: manifest for " + image
                                + " not found: manifest unknown: manifest unknown");
                return;
            }
            if (mode == Mode.IMAGE_PULL_FLAKY) {
                String registry = image.substring(0, image.indexOf('/'));
                pullError(
                        name,
                        image,
                        "ErrImagePull",
                        "failed to pull and unpack image \"" + image + "\": failed to resolve "
                                + "reference \"" + image + "\": failed to do request: Head \"https://" + registry
                                + "/v2/\": dial tcp 10.96.0.20:5000: i/o timeout");
                Thread.sleep(500);
                pullError(name, image, "ImagePullBackOff", "Back-off pulling image \"" + image + "\"");
                Thread.sleep(500);
                pullError(
                        name,
                        image,
                        "ErrImagePull",
                        "failed to pull and unpack image \"" + image + "\": failed to resolve "
                                + "reference \"" + image + "\": unexpected status from HEAD request to https://"
                                + registry
                                + "/v2/: 503 Service Unavailable");
                Thread.sleep(500);
                event(name, "Pulled", "Successfully pulled image \"" + image + "\"");
            }
            String ip = "127.0.0." + (20 + (NEXT_ADDRESS.getAndIncrement() - 20) % 234);
            if (mode == Mode.NEVER_READY) { // the container runs, its server never answers the probe
                running(name, ip, false);
                return;
            }
            Path home = Files.createTempDirectory("ferry-fake-pod");
            homes.put(name, home);
            Path content = images.apply(image);
            if (content != null) {
                copy(content, home);
            }
            List<String> command = new ArrayList<>();
            for (String arg : pod.getSpec().getContainers().get(0).getArgs()) {
                command.add(arg.equals("--ip=0.0.0.0") ? "--ip=" + ip : arg);
            }
            if ("root".equals(System.getProperty("user.name"))) {
                command.add("--allow-root"); // tests run as root here; a real session Pod runs as uid 1000
            }
            ProcessBuilder pb = new ProcessBuilder(command)
                    .directory(home.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log(name).toFile());
            pb.environment().put("HOME", home.toString());
            pb.environment().put("JUPYTER_RUNTIME_DIR", home.resolve(".runtime").toString());
            pb.environment().put("JUPYTER_CONFIG_DIR", home.resolve(".jupyter").toString());
            pod.getSpec()
                    .getContainers()
                    .get(0)
                    .getEnv()
                    .forEach(e -> pb.environment().put(e.getName(), e.getValue()));
            Process process = pb.start();
            servers.put(name, process);
            if (api.fabric8()
                            .pods()
                            .inNamespace(KubeApiDouble.NAMESPACE)
                            .withName(name)
                            .get()
                    == null) {
                stop(name); // deleted while the scheduler or the pull made it wait: nothing is to run
                return;
            }
            event(name, "Started", "Started container notebook");
            status(
                    name,
                    b -> b.editOrNewStatus()
                            .withPhase("Running")
                            .withPodIP(ip)
                            .withConditions(scheduled(false))
                            .withContainerStatuses(new ContainerStatusBuilder()
                                    .withName("notebook")
                                    .withImage(image)
                                    .withImageID("")
                                    .withRestartCount(0)
                                    .withReady(false)
                                    .withNewState()
                                    .withNewRunning()
                                    .withStartedAt(Instant.now().toString())
                                    .endRunning()
                                    .endState()
                                    .build())
                            .endStatus());
            String probe = "http://" + ip + ":8888"
                    + pod.getSpec()
                            .getContainers()
                            .get(0)
                            .getReadinessProbe()
                            .getHttpGet()
                            .getPath();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (process.isAlive() && System.nanoTime() < deadline) {
                if (answers(probe)) {
                    running(name, ip, true);
                    break;
                }
                Thread.sleep(100);
            }
            process.onExit().thenRun(() -> {
                if (servers.containsKey(name)) {
                    int code = process.exitValue();
                    status(
                            name,
                            b -> b.editOrNewStatus()
                                    .withPhase(code == 0 ? "Succeeded" : "Failed")
                                    .withConditions(new PodConditionBuilder()
                                            .withType("Ready")
                                            .withStatus("False")
                                            .build())
                                    .withContainerStatuses(new ContainerStatusBuilder()
                                            .withName("notebook")
                                            .withImage("fake")
                                            .withImageID("")
                                            .withReady(false)
                                            .withRestartCount(0)
                                            .withNewState()
                                            .withNewTerminated()
                                            .withExitCode(code)
                                            .withReason(code == 137 ? "OOMKilled" : "Error")
                                            .endTerminated()
                                            .endState()
                                            .build())
                                    .endStatus());
                }
            });
        } catch (Exception e) {
            throw new IllegalStateException("fake kubelet: " + name, e);
        }
    }

    private final Map<String, Path> logs = new ConcurrentHashMap<>();

    private Path log(String pod) throws IOException {
        Path log = Files.createTempFile("ferry-fake-pod", ".log");
        logs.put(pod, log);
        return log;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path rel = from.relativize(p);
                if (rel.toString().isEmpty() || rel.startsWith(".git") || rel.startsWith(".ferry")) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to.resolve(rel.toString()));
                } else {
                    Files.copy(p, to.resolve(rel.toString()));
                }
            }
        }
    }

    /**
     * Sets the Pod's Ready condition as the kubelet does when the readiness probe starts or stops answering (a server
     * too busy to answer within the probe's timeout), with the server left running.
     */
    void ready(String podName, boolean ready) {
        status(
                podName,
                b -> b.editOrNewStatus()
                        .withConditions(scheduled(ready, Instant.now().toString()))
                        .endStatus());
    }

    /** Kills a session's server as the kernel's OOM killer would (SIGKILL), for the crash tests. */
    void oomKill(String podName) {
        Process p = servers.get(podName);
        if (p != null) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private boolean answers(String url) {
        try {
            return http.send(
                                    HttpRequest.newBuilder(URI.create(url))
                                            .timeout(Duration.ofSeconds(2))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                    == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The Pod runs at {@code ip}, Ready as its readiness probe last answered. */
    private void running(String name, String ip, boolean ready) {
        status(
                name,
                b -> b.editOrNewStatus()
                        .withPhase("Running")
                        .withPodIP(ip)
                        .withConditions(scheduled(ready))
                        .endStatus());
    }

    /** A scheduled Pod's conditions, Ready as its readiness probe last answered. */
    private static List<PodCondition> scheduled(boolean ready) {
        return scheduled(ready, null);
    }

    /** A scheduled Pod's conditions, Ready as its readiness probe last answered, {@code since} then (or unsaid). */
    private static List<PodCondition> scheduled(boolean ready, String since) {
        return List.of(
                new PodConditionBuilder()
                        .withType("PodScheduled")
                        .withStatus("True")
                        .build(),
                new PodConditionBuilder()
                        .withType("Ready")
                        .withStatus(ready ? "True" : "False")
                        .withLastTransitionTime(since)
                        .build());
    }

    private void status(String name, java.util.function.UnaryOperator<PodBuilder> change) {
        try {
            api.fabric8()
                    .pods()
                    .inNamespace(KubeApiDouble.NAMESPACE)
                    .withName(name)
                    .editStatus(p -> change.apply(new PodBuilder(p)).build());
        } catch (RuntimeException e) {
            // the Pod was deleted meanwhile
        }
    }

    /** The container waits on its image, with the kubelet's reason and message, and a Warning event says so. */
    private void pullError(String name, String image, String reason, String message) {
        status(
                name,
                b -> b.editOrNewStatus()
                        .withPhase("Pending")
                        .withContainerStatuses(new ContainerStatusBuilder()
                                .withName("notebook")
                                .withImage(image)
                                .withImageID("")
                                .withRestartCount(0)
                                .withReady(false)
                                .withNewState()
                                .withNewWaiting()
                                .withReason(reason)
                                .withMessage(message)
                                .endWaiting()
                                .endState()
                                .build())
                        .endStatus());
        event(name, reason.equals("ErrImagePull") ? "Failed" : "BackOff", message);
    }

    private void event(String pod, String reason, String message) {
        api.fabric8()
                .v1()
                .events()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .resource(new EventBuilder()
                        .withNewMetadata()
                        .withGenerateName(pod + ".")
                        .withNamespace(KubeApiDouble.NAMESPACE)
                        .endMetadata()
                        .withNewInvolvedObject()
                        .withKind("Pod")
                        .withName(pod)
                        .withNamespace(KubeApiDouble.NAMESPACE)
                        .endInvolvedObject()
                        .withReason(reason)
                        .withMessage(message)
                        .withType("Normal")
                        .withCount(1)
                        .withLastTimestamp(Instant.now().toString())
                        .build())
                .create();
    }

    private void stop(String name) {
        Process p = servers.remove(name);
        if (p != null) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            try {
                if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Path log = logs.remove(name);
        if (log != null) {
            log.toFile().delete();
        }
        Path home = homes.remove(name);
        if (home != null) {
            org.springframework.util.FileSystemUtils.deleteRecursively(home.toFile());
        }
    }

    @Override
    public void close() {
        watch.close();
        List.copyOf(servers.keySet()).forEach(this::stop);
    }
}
