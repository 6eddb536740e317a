package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;

import io.fabric8.kubernetes.api.model.Pod;

import dev.ferry.FerryApplication;
import dev.ferry.capacity.Capacity;
import dev.ferry.cull.Culler;
import dev.ferry.session.Membership;
import dev.ferry.session.Session;
import dev.ferry.session.SessionService;
import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.Parts;
import dev.ferry.testing.TestGitServer;
import dev.ferry.workshop.Workshop;
import dev.ferry.workshop.WorkshopService;

/**
 * The kubernetes platform end to end, without a cluster: Ferry's real Kubernetes code, through the official client,
 * against the fabric8 mock API server (CRUD mode, with the test-only watch bridge); a test stand-in for the kubelet that
 * runs a real Debian Jupyter server per session Pod, and one for the Job controller that runs the real {@code prepare}
 * step; a real registry (Debian's docker-registry) for the "already built?" check; a real git server. What this cannot
 * prove: that a real kubelet and BuildKit accept the Pod and Job (see the k3s test and {@code DeployManifestsTest}).
 */
class KubernetesPlatformTest {

    static KubeApiDouble api;
    static FakeKubelet kubelet;
    static FakeJobController jobs;
    static LocalRegistry registry;
    static TestGitServer git;
    final List<ConfigurableApplicationContext> portals = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Parts.requireJupyter();
        Parts.requireRegistryTools();
        api = new KubeApiDouble();
        jobs = new FakeJobController(api);
        kubelet = new FakeKubelet(api, jobs.images::get);
        registry = LocalRegistry.anonymous();
        git = new TestGitServer();
    }

    @AfterAll
    static void stop() throws Exception {
        if (api != null) {
            // sessions outlive portals on Kubernetes: delete what is left, as a cluster operator would
            api.fabric8().pods().inNamespace(KubeApiDouble.NAMESPACE).delete();
            kubelet.close();
            jobs.close();
            api.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (git != null) {
            git.close();
        }
    }

    @AfterEach
    void stopPortals() throws InterruptedException {
        portals.forEach(ConfigurableApplicationContext::close);
        // sessions and workshops outlive portals on Kubernetes: clear the namespace, as between two clusters, for the
        // next test (a workshop left behind would have its pool filled by the next test's portals)
        api.fabric8().configMaps().inNamespace(KubeApiDouble.NAMESPACE).delete();
        api.fabric8().pods().inNamespace(KubeApiDouble.NAMESPACE).delete();
        api.fabric8().leases().inNamespace(KubeApiDouble.NAMESPACE).delete(); // a fresh election for the next test
        await(() -> kubelet.running() == 0, Duration.ofSeconds(15), "the fake kubelet to stop every server");
        kubelet.mode = FakeKubelet.Mode.RUN;
        jobs.failBuilds = false;
        jobs.pullFailure = null;
        jobs.refuseCreate = null;
        api.up();
        // the double answered 403 to these, as a real API server with the Role of deploy/ would (#19.2)
        java.util.Set<String> refused = java.util.Set.copyOf(api.rules.refused);
        api.rules.refused.clear();
        assertThat(refused)
                .as("requests of the portal that the Role of deploy/base does not grant")
                .isEmpty();
    }

    ConfigurableApplicationContext portal(String... extra) {
        return portal(List.of(), extra);
    }

    /** A portal whose API clients also go through {@code http} (applied before the double's watch bridge). */
    ConfigurableApplicationContext portal(List<KubernetesHttpCustomizer> http, String... extra) {
        List<String> props = new ArrayList<>(List.of(
                "server.port=0",
                "ferry.platform=kubernetes",
                "ferry.kubernetes.api-url=" + api.url(),
                "ferry.kubernetes.namespace=" + KubeApiDouble.NAMESPACE,
                "ferry.kubernetes.activity-flush=500ms",
                "ferry.kubernetes.lease-duration=10s",
                "ferry.registry.prefix=" + registry.prefix(),
                "ferry.registry.insecure=true",
                "ferry.repo.allowed-schemes=http,https",
                "ferry.repo.allow-private-addresses=true",
                "ferry.kubernetes.session.launch-timeout=60s",
                "spring.main.banner-mode=off"));
        for (String e : extra) { // an extra setting replaces the default of the same key
            props.removeIf(p -> p.startsWith(e.substring(0, e.indexOf('=') + 1)));
            props.add(e);
        }
        KubernetesHttpCustomizer bridge = api.watchBridge();
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(FerryApplication.class)
                .initializers(c -> {
                    for (int i = 0; i < http.size(); i++) {
                        KubernetesHttpCustomizer h = http.get(i);
                        ((GenericApplicationContext) c)
                                .registerBean("testHttp" + i, KubernetesHttpCustomizer.class, () -> h);
                    }
                    ((GenericApplicationContext) c).registerBean(KubernetesHttpCustomizer.class, () -> bridge);
                })
                .run(props.stream().map(p -> "--" + p).toArray(String[]::new)); // above application.yml
        portals.add(ctx);
        return ctx;
    }

    static String base(ConfigurableApplicationContext ctx) {
        return "http://127.0.0.1:" + ctx.getEnvironment().getProperty("local.server.port");
    }

    /** A workshop of {@code repo}'s main branch on {@code ctx}, starting in a minute and ending in an hour. */
    static Workshop createWorkshop(ConfigurableApplicationContext ctx, String title, String repo, int seats, int pool) {
        return ctx.getBean(WorkshopService.class)
                .create(new WorkshopService.CreateRequest(
                        title,
                        "git/" + java.net.URLEncoder.encode(repo, java.nio.charset.StandardCharsets.UTF_8) + "/main",
                        Instant.now().plusSeconds(60),
                        Instant.now().plusSeconds(3600),
                        seats,
                        pool,
                        base(ctx)));
    }

    static String buildUrl(ConfigurableApplicationContext ctx, String repo, String ref) {
        return base(ctx) + "/build/git/" + java.net.URLEncoder.encode(repo, java.nio.charset.StandardCharsets.UTF_8)
                + "/" + ref;
    }

    static String sessionId(Map<String, Object> ready) {
        String[] parts = ((String) ready.get("url")).split("/");
        return parts[parts.length - 1];
    }

    static String messages(EventStream.Result result) {
        StringBuilder all = new StringBuilder();
        result.events().forEach(e -> all.append(e.getOrDefault("message", "")));
        return all.toString();
    }

    static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    Pod sessionPod(String id) {
        return api.fabric8()
                .pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName("ferry-" + id)
                .get();
    }

    @Test
    void launchBuildsInAJobStartsAHardenedPodAndRunsCodeThroughTheProxy() throws Exception {
        String repo =
                git.createRepo("k8s-hello", Map.of("requirements.txt", "ipykernel\n", "hello.py", "print('hi')\n"));
        ConfigurableApplicationContext portal = portal();

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, "main"));

        Map<String, Object> ready = result.last();
        assertThat(ready.get("phase")).as(messages(result)).isEqualTo("ready");
        assertThat(result.phases()).containsSubsequence("fetching", "building", "built", "launching", "ready");
        String log = messages(result);
        assertThat(log)
                .contains("prepared " + repo)
                .contains("#9 pushing layers done") // the Job's pod log, streamed
                .contains("Scheduled: Successfully assigned")
                .contains("Pulling: Pulling image"); // the Pod's events
        String image = (String) ready.get("image");
        assertThat(image)
                .startsWith(registry.prefix())
                .endsWith(":"
                        + ((String) ready.get("binder_persistent_request"))
                                .substring(((String) ready.get("binder_persistent_request")).lastIndexOf('/') + 1));

        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        assertThat(jupyter.get("api/contents").body()).contains("hello.py").doesNotContain("k8s-hello");
        String kernel = jupyter.startKernel();
        assertThat(jupyter.execute(kernel, "print(6*7)")).isEqualTo("42\n");
        assertThat(jupyter.execute(kernel, "import os; print(os.environ['BINDER_REQUEST'])"))
                .isEqualTo(ready.get("binder_request") + "\n");

        Pod pod = sessionPod(sessionId(ready));
        var spec = pod.getSpec();
        var container = spec.getContainers().get(0);
        assertThat(pod.getMetadata().getLabels())
                .containsEntry("app.kubernetes.io/managed-by", "ferry")
                .containsEntry("app.kubernetes.io/component", "session")
                .containsEntry("ferry.dev/session", sessionId(ready));
        assertThat(pod.getMetadata().getAnnotations())
                .containsKeys("ferry.dev/commit", "ferry.dev/created", "ferry.dev/last-activity")
                .containsEntry("ferry.dev/image", image);
        assertThat(container.getImage()).isEqualTo(image);
        assertThat(container.getArgs())
                .contains("--NotebookApp.base_url=/user/" + sessionId(ready) + "/", "--port=8888");
        assertThat(spec.getRestartPolicy()).isEqualTo("Never");
        assertThat(spec.getAutomountServiceAccountToken()).isFalse();
        assertThat(spec.getEnableServiceLinks()).isFalse();
        assertThat(spec.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(spec.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
        assertThat(spec.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getResources().getLimits()).containsKeys("cpu", "memory");

        // the second launch of the same commit finds the finished Job and builds nothing
        int before = jobs.jobsSeen.get();
        EventStream.Result again = EventStream.read(buildUrl(portal, repo, "main"));
        assertThat(again.last().get("phase")).as(messages(again)).isEqualTo("ready");
        assertThat(jobs.jobsSeen.get()).isEqualTo(before);
    }

    @Test
    void imageAlreadyInTheRegistryIsNotBuiltAgain() throws Exception {
        String repo = git.createRepo("k8s-prebuilt", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal = portal();
        String commit = git.commit("k8s-prebuilt", "main", Map.of("README.md", "x\n"), "second");
        var key = new dev.ferry.build.ImageKey(repo, commit);
        registry.push(registry.properties("", "").repository(key.slug()), commit);
        int before = jobs.jobsSeen.get();

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, commit));

        assertThat(result.last().get("phase")).as(messages(result)).isEqualTo("ready");
        assertThat(result.phases()).doesNotContain("building");
        assertThat(jobs.jobsSeen.get()).isEqualTo(before);
    }

    @Test
    void replicasShareSessionsAndBuildsAndOnlyTheLeaderCulls() throws Exception {
        String repo = git.createRepo("k8s-shared", Map.of("requirements.txt", "ipykernel\n"));
        String[] cull = {"ferry.cull.idle-timeout=8s", "ferry.cull.interval=500ms"};
        ConfigurableApplicationContext a = portal(cull);
        ConfigurableApplicationContext b = portal(cull);
        AtomicInteger culls = new AtomicInteger();
        a.getBean(Culler.class).onCull(kind -> culls.incrementAndGet());
        b.getBean(Culler.class).onCull(kind -> culls.incrementAndGet());
        awaitALeader(a, b);
        assertThat(leads(a) && leads(b)).isFalse();

        // the same unbuilt commit launched on both replicas at once: one Job
        int before = jobs.jobsSeen.get();
        CompletableFuture<EventStream.Result> onA =
                CompletableFuture.supplyAsync(() -> read(buildUrl(a, repo, "main")));
        CompletableFuture<EventStream.Result> onB =
                CompletableFuture.supplyAsync(() -> read(buildUrl(b, repo, "main")));
        EventStream.Result ra = onA.get();
        EventStream.Result rb = onB.get();
        assertThat(ra.last().get("phase")).as(messages(ra)).isEqualTo("ready");
        assertThat(rb.last().get("phase")).as(messages(rb)).isEqualTo("ready");
        assertThat(jobs.jobsSeen.get() - before).isEqualTo(1);

        // a session started on A is proxied by B (B adopted it from the informer) and the other way round
        Map<String, Object> ready = ra.last();
        String id = sessionId(ready);
        String viaB = base(b) + "/user/" + id + "/";
        JupyterClient throughB = new JupyterClient(viaB, (String) ready.get("token"));
        String kernel = throughB.startKernel();
        assertThat(throughB.execute(kernel, "print(6*7)")).isEqualTo("42\n");
        assertThat(b.getBean(SessionService.class).find(id)).isPresent();

        // both sessions idle: each is culled once, by the leader only, and both replicas forget them
        String other = sessionId(rb.last());
        await(
                () -> sessionPod(id) == null && sessionPod(other) == null,
                Duration.ofSeconds(40),
                "idle sessions culled");
        await(
                () -> a.getBean(SessionService.class).sessions().isEmpty()
                        && b.getBean(SessionService.class).sessions().isEmpty(),
                Duration.ofSeconds(10),
                "both replicas to forget the culled sessions");
        assertThat(culls.get()).isEqualTo(2);
        HttpResponse<String> gone = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(viaB + "api/status")).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(gone.body()).contains("idle");
    }

    /**
     * #21: the first request for a session another replica started a moment ago is served, not answered 404, though
     * this replica's informer has not delivered the session's Pod yet: the front door asks the platform off its event
     * loop.
     */
    @Test
    void aReplicaServesTheFirstRequestForASessionAnotherReplicaStartedBeforeItsInformerSawIt() throws Exception {
        String repo = git.createRepo("k8s-first-request", Map.of("requirements.txt", "ipykernel\n"));
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        // these replicas' Pod watches are held back (a slow watch, a busy API server): they listed the cluster before
        // the session existed, and their informers hear of its Pod only when released
        KubernetesHttpCustomizer heldPodWatches = b -> b.addInterceptor(chain -> {
            var url = chain.request().url();
            if (url.encodedPath().endsWith("/pods") && "true".equals(url.queryParameter("watch"))) {
                try {
                    release.await(120, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return chain.proceed(chain.request());
        });
        try {
            ConfigurableApplicationContext a = portal();
            ConfigurableApplicationContext held = portal(List.of(heldPodWatches));
            EventStream.Result launched = read(buildUrl(a, repo, "main"));
            assertThat(launched.last().get("phase")).as(messages(launched)).isEqualTo("ready");
            String id = sessionId(launched.last());
            String token = (String) launched.last().get("token");
            assertThat(held.getBean(KubeState.class).pod("ferry-" + id))
                    .as("the informer of the replica is held back")
                    .isNull();
            HttpResponse<String> first = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(base(held) + "/user/" + id + "/api/status"))
                                    .header("Authorization", "token " + token)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(first.statusCode())
                    .as("the first request through the front door: " + first.body())
                    .isEqualTo(200);
            assertThat(first.body()).contains("\"started\"");
            assertThat(held.getBean(SessionService.class).find(id))
                    .as("the replica adopted the session")
                    .isPresent();
            HttpResponse<String> unknown = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(base(held) + "/user/" + "a".repeat(32) + "/api/status"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(unknown.statusCode()).as("a session that exists nowhere").isEqualTo(404);
        } finally {
            release.countDown();
        }
    }

    @Test
    void workshopsAreServedByEveryReplicaAndEachPoolSessionGoesToOneAttendee() throws Exception {
        String repo = git.createRepo("k8s-workshop", Map.of("requirements.txt", "ipykernel\n"));
        // attendees here take sessions without always opening them: no culling, and no freeing of unopened seats
        String[] settings = {
            "ferry.workshop.end-warning=1s", "ferry.cull.idle-timeout=10m", "ferry.workshop.claim-grace=10m"
        };
        ConfigurableApplicationContext a = portal(settings);
        ConfigurableApplicationContext b = portal(settings);
        awaitALeader(a, b);

        // created on A; B finds it in the cluster; only the leader fills the pool (2 Pods, not 2 per replica)
        Workshop onA = createWorkshop(a, "Shared", repo, 3, 2);
        String slug = onA.slug();
        await(
                () -> b.getBean(WorkshopService.class).find(slug).isPresent(),
                Duration.ofSeconds(10),
                "B to know the workshop");
        Workshop onB = b.getBean(WorkshopService.class).find(slug).orElseThrow();
        await(
                () -> onA.pooled() == 2 && onB.pooled() == 2,
                Duration.ofSeconds(90),
                "a warm pool of 2 on both replicas");
        assertThat(workshopPods(slug)).hasSize(2);
        Set<String> pool = Set.copyOf(workshopPods(slug).stream()
                .map(p -> p.getMetadata().getLabels().get("ferry.dev/session"))
                .toList());
        assertThat(pool)
                .allSatisfy(id -> assertThat(
                                b.getBean(SessionService.class).find(id).map(Session::held))
                        .contains(true));
        assertThat(api.fabric8()
                        .configMaps()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withName("ferry-workshop-" + slug)
                        .get()
                        .getData())
                .containsEntry("seats", "3")
                .containsEntry("commit", onA.repo().commit());
        Instant muchLater = Instant.now().plus(Duration.ofHours(1)); // far past the idle timeout
        assertThat(a.getBean(Culler.class).cullOnce(muchLater)
                        + b.getBean(Culler.class).cullOnce(muchLater))
                .as("no replica culls a pool session, whichever started it")
                .isZero();
        assertThat(workshopPods(slug)).hasSize(2);
        assertThat(a.getBean(Capacity.class).used())
                .as("pool sessions count against the workshop's seats")
                .isEqualTo(2);
        assertThat(a.getBean(Capacity.class).reserved()).isEqualTo(1);
        assertThat(b.getBean(Capacity.class).reserved()).isEqualTo(1);

        // a hand-over written from a stale view of the Pod is refused by the API server (409), not applied
        String somePool = pool.iterator().next();
        io.kubernetes.client.openapi.models.V1Pod stale =
                a.getBean(KubeState.class).pod("ferry-" + somePool);
        // (a merge patch without a resourceVersion: the portals patch Pods too, and an edit() would race with them)
        api.fabric8()
                .pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName("ferry-" + somePool)
                .patch(
                        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"test/touched\":\"yes\"}}}");
        assertThat(a.getBean(KubernetesSessionRuntime.class)
                        .handOver(
                                stale,
                                Membership.pool(slug),
                                Membership.pool(slug).handedTo("1".repeat(32))))
                .as("a conflict, to be read again")
                .isNull();
        assertThat(sessionPod(somePool).getMetadata().getAnnotations()).doesNotContainKey("ferry.dev/attendee");

        // two attendees at once, one on each replica: each gets a pool session of their own, at once
        CompletableFuture<EventStream.Result> first = CompletableFuture.supplyAsync(() -> attend(a, slug, "f"));
        CompletableFuture<EventStream.Result> second = CompletableFuture.supplyAsync(() -> attend(b, slug, "s"));
        String firstId = sessionId(first.get().last());
        String secondId = sessionId(second.get().last());
        assertThat(firstId).isNotEqualTo(secondId);
        assertThat(pool).contains(firstId, secondId);
        String firstOwner = sessionPod(firstId).getMetadata().getAnnotations().get("ferry.dev/attendee");
        String secondOwner = sessionPod(secondId).getMetadata().getAnnotations().get("ferry.dev/attendee");
        assertThat(firstOwner)
                .as("hand-overs are recorded on the Pods, as digests of the cookies")
                .isNotNull()
                .isNotEqualTo(secondOwner)
                .doesNotContain("f".repeat(32));
        assertThat(secondOwner).isNotNull().doesNotContain("s".repeat(32));

        // the platform refuses a second hand-over of a Pod another replica handed over (a stale view loses)
        Session taken = a.getBean(SessionService.class).find(firstId).orElseThrow();
        assertThat(a.getBean(KubernetesSessionRuntime.class)
                        .handOver(
                                taken.spec(),
                                Membership.pool(slug),
                                Membership.pool(slug).handedTo("0".repeat(32))))
                .isFalse();
        assertThat(sessionPod(firstId).getMetadata().getAnnotations()).containsEntry("ferry.dev/attendee", firstOwner);

        // the first attendee comes back through the other replica: the same session, not a new one
        assertThat(sessionId(attend(b, slug, "f").last())).isEqualTo(firstId);
        // the leader refilled the pool with the last reserved seat; a third attendee gets that session, and nothing
        // more
        // starts: the workshop has taken all its seats
        String thirdId = sessionId(attend(a, slug, "t").last());
        assertThat(pool).doesNotContain(thirdId);
        assertThat(workshopPods(slug)).hasSize(3);
        JupyterClient third = new JupyterClient(base(b) + "/user/" + thirdId + "/", (String)
                attend(b, slug, "t").last().get("token"));
        assertThat(third.execute(third.startKernel(), "print(6*7)")).isEqualTo("42\n");

        // a replica started now finds the workshop and its sessions
        ConfigurableApplicationContext c = portal(settings);
        await(
                () -> c.getBean(WorkshopService.class)
                        .find(slug)
                        .map(w -> w.attendees().size() == 3)
                        .orElse(false),
                Duration.ofSeconds(20),
                "a new replica to know the workshop and its attendees");

        // the instructor ends it on B: after the warning every one of its sessions stops, on every replica
        b.getBean(WorkshopService.class).end(slug);
        await(() -> workshopPods(slug).isEmpty(), Duration.ofSeconds(30), "the workshop's sessions to stop");
        for (ConfigurableApplicationContext portal : List.of(a, b, c)) {
            WorkshopService workshops = portal.getBean(WorkshopService.class);
            await(
                    () -> workshops.find(slug).orElseThrow().state() == Workshop.State.ENDED,
                    Duration.ofSeconds(10),
                    "the end everywhere");
            await(
                    () -> portal.getBean(Capacity.class).used() == 0
                            && portal.getBean(Capacity.class).reserved() == 0,
                    Duration.ofSeconds(10),
                    "the seats given back");
        }
        EventStream.Result late = attend(c, slug, "l");
        assertThat(late.last().get("phase")).isEqualTo("failed");
        assertThat(late.last().get("status_code")).isEqualTo(410);

        // a replica started after the end knows the workshop as ended, and builds nothing for it
        c.close();
        portals.remove(c);
        ConfigurableApplicationContext d = portal(settings);
        await(
                () -> d.getBean(WorkshopService.class).find(slug).isPresent(),
                Duration.ofSeconds(20),
                "the past workshop");
        Workshop past = d.getBean(WorkshopService.class).find(slug).orElseThrow();
        assertThat(past.state()).isEqualTo(Workshop.State.ENDED);
        assertThat(past.build()).isNull();
        assertThat(d.getBean(Capacity.class).reserved()).isZero();

        // long after its end (ferry.workshop.keep-ended, 30 days) the tending replica deletes its ConfigMap and every
        // replica forgets it
        Instant monthLater = Instant.now().plus(Duration.ofDays(31));
        await(
                () -> {
                    for (ConfigurableApplicationContext portal : List.of(a, b, d)) {
                        portal.getBean(WorkshopService.class).tick(monthLater);
                    }
                    return api.fabric8()
                                            .configMaps()
                                            .inNamespace(KubeApiDouble.NAMESPACE)
                                            .withName("ferry-workshop-" + slug)
                                            .get()
                                    == null
                            && List.of(a, b, d).stream()
                                    .allMatch(p -> p.getBean(WorkshopService.class)
                                            .find(slug)
                                            .isEmpty());
                },
                Duration.ofSeconds(15),
                "the long-ended workshop to be forgotten everywhere");
    }

    @Test
    void whenTheLeaderStepsDownTheNextReplicaTendsTheWorkshopPool() throws Exception {
        String repo = git.createRepo("k8s-leader-change", Map.of("requirements.txt", "ipykernel\n"));
        String[] settings = {
            "ferry.cull.idle-timeout=10m", "ferry.kubernetes.lease-duration=3s", "ferry.workshop.claim-grace=10m"
        };
        ConfigurableApplicationContext a = portal(settings);
        ConfigurableApplicationContext b = portal(settings);
        awaitALeader(a, b);
        boolean aLeads = leads(a);
        ConfigurableApplicationContext leader = aLeads ? a : b;
        ConfigurableApplicationContext other = aLeads ? b : a;
        assertThat(leads(other)).as("two leaders at once").isFalse();

        Workshop workshop = createWorkshop(other, "Hand-over", repo, 3, 1);
        String slug = workshop.slug();
        await(
                () -> workshopPods(slug).size() == 1 && workshop.pooled() == 1,
                Duration.ofSeconds(90),
                "the leader to fill the pool");
        String pooled = workshopPods(slug).get(0).getMetadata().getLabels().get("ferry.dev/session");

        // The leader steps down as a replica that shuts down does first: it gives up the Lease. Its portal stays up:
        // closing a whole portal while the API double streams watch events can freeze the double (e85d954).
        // (How soon the other takes over is LeaseLeadershipTest's concern.)
        leader.getBean(LeaseLeadership.class).close();
        assertThat(leads(leader)).isFalse();
        await(() -> leads(other), Duration.ofSeconds(10), "the other replica to lead");
        assertThat(workshopPods(slug)).as("the pool session stays").hasSize(1);

        // an attendee takes the pool session, and the new leader fills the pool again
        assertThat(sessionId(attend(other, slug, "h").last())).isEqualTo(pooled);
        await(
                () -> workshopPods(slug).size() == 2 && workshop.pooled() == 1,
                Duration.ofSeconds(90),
                "the new leader to fill the pool again");
        String refilled = workshopPods(slug).stream()
                .map(p -> p.getMetadata().getLabels().get("ferry.dev/session"))
                .filter(id -> !id.equals(pooled))
                .findFirst()
                .orElseThrow();
        assertThat(other.getBean(SessionService.class).find(refilled).map(Session::held))
                .contains(true);
        JupyterClient attendee = new JupyterClient(base(other) + "/user/" + pooled + "/", (String)
                attend(other, slug, "h").last().get("token"));
        assertThat(attendee.execute(attendee.startKernel(), "print(6*7)")).isEqualTo("42\n");
    }

    private static void awaitALeader(ConfigurableApplicationContext a, ConfigurableApplicationContext b)
            throws InterruptedException {
        await(() -> leads(a) || leads(b), Duration.ofSeconds(10), "a leader");
    }

    private static boolean leads(ConfigurableApplicationContext portal) {
        return portal.getBean(LeaseLeadership.class).isLeader();
    }

    List<Pod> workshopPods(String slug) {
        return api
                .fabric8()
                .pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withLabel("ferry.dev/workshop", slug)
                .list()
                .getItems()
                .stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .toList();
    }

    private static EventStream.Result attend(ConfigurableApplicationContext portal, String slug, String who) {
        try {
            return EventStream.read(
                    base(portal) + "/e/" + slug + "/events",
                    Map.of("Accept", "text/event-stream", "Cookie", "ferry-attendee=" + who.repeat(32)),
                    Duration.ofMinutes(2),
                    Integer.MAX_VALUE);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRestartedPortalAdoptsRunningSessions() throws Exception {
        String repo = git.createRepo("k8s-restart", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext first = portal();
        Map<String, Object> ready =
                EventStream.read(buildUrl(first, repo, "main")).last();
        String id = sessionId(ready);
        first.close(); // the replica dies; its session Pod lives on
        portals.remove(first);
        assertThat(sessionPod(id)).isNotNull();

        ConfigurableApplicationContext second = portal();
        await(() -> second.getBean(SessionService.class).find(id).isPresent(), Duration.ofSeconds(10), "adoption");
        JupyterClient jupyter = new JupyterClient(base(second) + "/user/" + id + "/", (String) ready.get("token"));
        assertThat(jupyter.execute(jupyter.startKernel(), "print(6*7)")).isEqualTo("42\n");
        assertThat(second.getBean(dev.ferry.capacity.Capacity.class).used()).isEqualTo(1);
    }

    /** #19.4: an image the registry does not have is said at once, not after the build timeout. */
    @Test
    void aBuildWhosePrepareImageCannotBePulledFailsAtOnceNamingTheRegistrysAnswer() throws Exception {
        String repo = git.createRepo("k8s-no-prepare-image", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal = portal("ferry.build.timeout=60s");
        jobs.pullFailure = "rpc error: code = NotFound desc = failed to pull and unpack image "
                + "\"ghcr.io/ferry-dev/ferry:0.0.0-missing\": manifest unknown";
        long t0 = System.nanoTime();

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, "main"));

        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(messages(result)).isEqualTo("failed");
        assertThat((String) failed.get("message"))
                .contains("step 'prepare'")
                .contains("ErrImagePull")
                .contains("manifest unknown")
                .contains("prepare-image")
                .doesNotContain("build timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
        assertThat(messages(result)).contains("Build Pod ").contains("ErrImagePull"); // relayed to the build log
        await(
                () -> api.fabric8().batch().v1().jobs().inNamespace(KubeApiDouble.NAMESPACE).list().getItems().stream()
                        .noneMatch(j -> j.getMetadata().getName().contains("no-prepare")),
                Duration.ofSeconds(10),
                "the Job's removal");
    }

    /** #19.4: the Job controller's FailedCreate (quota, admission) reaches the build log and ends the build. */
    @Test
    void aBuildJobWhosePodTheClusterRefusesFailsWithTheRefusal() throws Exception {
        String repo = git.createRepo("k8s-refused-build", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal =
                portal("ferry.build.timeout=60s", "ferry.kubernetes.build.start-grace=3s");
        jobs.refuseCreate =
                "pods \"ferry-build-x\" is forbidden: exceeded quota: ferry-quota, requested: limits.cpu=2, "
                        + "used: limits.cpu=8, limited: limits.cpu=8";
        long t0 = System.nanoTime();

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, "main"));

        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(messages(result)).isEqualTo("failed");
        assertThat((String) failed.get("message"))
                .contains("refused to create its Pod")
                .contains("exceeded quota: ferry-quota")
                .contains("quota is full")
                .doesNotContain("build timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
        assertThat(messages(result)).contains("FailedCreate: Error creating: pods");
    }

    /** #19.4: an admission refusal cannot pass by waiting: said at once; once the operator fixes it, a retry runs. */
    @Test
    void aBuildPodForbiddenByAnAdmissionPolicyFailsAtOnceAndRunsOnceAllowed() throws Exception {
        String repo = git.createRepo("k8s-forbidden-build", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal =
                portal("ferry.build.timeout=60s"); // start-grace: its default, 2 minutes
        jobs.refuseCreate =
                "pods \"ferry-build-x\" is forbidden: violates PodSecurity \"baseline:latest\": seccompProfile "
                        + "(container \"build\" must not set securityContext.seccompProfile.type to \"Unconfined\")";
        long t0 = System.nanoTime();

        EventStream.Result refused = EventStream.read(buildUrl(portal, repo, "main"));

        assertThat(refused.last().get("phase")).as(messages(refused)).isEqualTo("failed");
        assertThat((String) refused.last().get("message"))
                .contains("violates PodSecurity")
                .contains("admission");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));

        jobs.refuseCreate = null; // the operator relaxed the policy; the old FailedCreate event is still there (1 h)
        EventStream.Result retried = EventStream.read(buildUrl(portal, repo, "main"));
        assertThat(retried.phases()).as(messages(retried)).contains("built");
    }

    /**
     * Pod Security admission as a real cluster runs it: in a namespace that enforces {@code restricted}, the session Pod
     * is admitted and serves; the build Job is stored, but its controller's Pod is refused (rootless BuildKit needs
     * seccomp and AppArmor Unconfined), and the build ends at once with a sentence naming the rule, not at its timeout.
     */
    @Test
    void inANamespaceEnforcingRestrictedSessionsRunAndABuildFailsAtOnceNamingPodSecurity() throws Exception {
        ConfigurableApplicationContext portal =
                portal("ferry.build.timeout=60s"); // start-grace: its default, 2 minutes
        String prebuilt = prebuilt(portal, "k8s-restricted-session");
        String repo = git.createRepo("k8s-restricted-build", Map.of("requirements.txt", "ipykernel\n"));
        api.namespace(KubeApiDouble.NAMESPACE, Map.of(PodSecurity.ENFORCE, "restricted"));
        try {
            EventStream.Result session = EventStream.read(prebuilt);
            assertThat(session.last().get("phase")).as(messages(session)).isEqualTo("ready");
            Map<String, Object> ready = session.last();
            JupyterClient jupyter =
                    new JupyterClient(base(portal) + "/user/" + sessionId(ready) + "/", (String) ready.get("token"));
            assertThat(jupyter.execute(jupyter.startKernel(), "print(6*7)")).isEqualTo("42\n");

            int refusedBefore = jobs.podsRefused.get();
            long t0 = System.nanoTime();
            EventStream.Result build = EventStream.read(buildUrl(portal, repo, "main"));

            assertThat(build.last().get("phase")).as(messages(build)).isEqualTo("failed");
            assertThat((String) build.last().get("message"))
                    .contains("refused to create its Pod")
                    .contains("violates PodSecurity \"restricted:latest\"")
                    .contains(
                            "seccompProfile (container \"build\" must not set securityContext.seccompProfile.type to \"Unconfined\")")
                    .contains("admission rules")
                    .doesNotContain("build timeout");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
            assertThat(jobs.podsRefused.get()).isGreaterThan(refusedBefore);
            assertThat(messages(build)).contains("FailedCreate: Error creating: pods \"ferry-build-");
        } finally {
            api.deleteNamespace(KubeApiDouble.NAMESPACE);
        }
    }

    /**
     * A real API server's watch cache expires: open watches end with 410 Gone and a watch from the old resourceVersion is
     * refused. Each replica's informers must list again; then a session another replica starts is still seen.
     */
    @Test
    void afterTheWatchesExpireWith410AReplicaStillSeesASessionAnotherReplicaStarts() throws Exception {
        ConfigurableApplicationContext a = portal();
        ConfigurableApplicationContext b = portal();
        await(
                () -> a.getBean(KubeState.class).synced()
                        && b.getBean(KubeState.class).synced(),
                Duration.ofSeconds(20),
                "both replicas' first listing");
        String url = prebuilt(b, "k8s-expired-watch");

        api.expireWatches();
        EventStream.Result onB = EventStream.read(url);

        assertThat(onB.last().get("phase")).as(messages(onB)).isEqualTo("ready");
        String id = sessionId(onB.last());
        await(
                () -> a.getBean(SessionService.class).find(id).isPresent(),
                Duration.ofSeconds(20),
                "replica A to see the session B started after the watches expired");
        JupyterClient throughA = new JupyterClient(
                base(a) + "/user/" + id + "/", (String) onB.last().get("token"));
        assertThat(throughA.execute(throughA.startKernel(), "print(6*7)")).isEqualTo("42\n");
    }

    /** #19.4: the build's images are used when the nodes have them (kind load), and prepare's is not ':latest'. */
    @Test
    void buildJobStepsPullOnlyWhenMissingAndThePrepareImageIsPinned() throws Exception {
        String repo = git.createRepo("k8s-pinned-prepare", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal = portal();

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, "main"));

        assertThat(result.phases()).as(messages(result)).contains("built"); // the Job ran; the session is not the point
        var pod = api.fabric8().batch().v1().jobs().inNamespace(KubeApiDouble.NAMESPACE).list().getItems().stream()
                .filter(j -> j.getMetadata().getName().contains("pinned-prepare"))
                .findFirst()
                .orElseThrow()
                .getSpec()
                .getTemplate()
                .getSpec();
        var prepare = pod.getInitContainers().get(0);
        assertThat(prepare.getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(pod.getContainers().get(0).getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(prepare.getImage()).startsWith("ghcr.io/ferry-dev/ferry:").doesNotEndWith(":latest");
    }

    /**
     * #19.5: the portal's {@code ferry.buildpack.*} settings reach the build Job's {@code prepare}, which renders the
     * Dockerfile the builder builds: here a mirrored base image, as an operator sets it to avoid Docker Hub.
     */
    @Test
    void theBuildJobRendersTheDockerfileWithThePortalsBuildpackSettings() throws Exception {
        String repo = git.createRepo("k8s-buildpack-settings", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal =
                portal("ferry.buildpack.base-image=mirror.example.org/library/buildpack-deps:jammy");

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, "main"));

        assertThat(result.phases()).as(messages(result)).contains("built");
        java.nio.file.Path context = jobs.images.entrySet().stream()
                .filter(e -> e.getKey().contains("k8s-buildpack-settings"))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElseThrow();
        assertThat(java.nio.file.Files.readString(context.resolve(".ferry/Dockerfile")))
                .contains("FROM mirror.example.org/library/buildpack-deps:jammy")
                .doesNotContain("FROM docker.io/library/buildpack-deps");
    }

    /** #19.9: a fresh replica is kept out of the Service until its informers know the cluster. */
    @Test
    void aReplicaIsNotReadyUntilItsInformersHaveListedTheCluster() throws Exception {
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        // an API server slow to list Jobs (a large namespace, a busy server): the informer's first listing waits
        KubernetesHttpCustomizer slowJobLists = b -> b.addInterceptor(chain -> {
            var url = chain.request().url();
            if (url.encodedPath().endsWith("/jobs") && !"true".equals(url.queryParameter("watch"))) {
                try {
                    answer.await(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return chain.proceed(chain.request());
        });
        ConfigurableApplicationContext portal;
        try {
            portal = portal(List.of(slowJobLists), "management.endpoint.health.probes.enabled=true");
            HttpClient http = HttpClient.newHttpClient();
            URI readiness = URI.create(base(portal) + "/actuator/health/readiness");
            for (int i = 0; i < 10; i++) { // stays unready while the listing is held (2 s)
                assertThat(http.send(HttpRequest.newBuilder(readiness).build(), HttpResponse.BodyHandlers.ofString())
                                .statusCode())
                        .as("readiness before the first listing")
                        .isEqualTo(503);
                Thread.sleep(200);
            }
        } finally {
            answer.countDown();
        }
        HttpClient http = HttpClient.newHttpClient();
        URI readiness = URI.create(base(portal) + "/actuator/health/readiness");
        await(
                () -> {
                    try {
                        return http.send(
                                                HttpRequest.newBuilder(readiness)
                                                        .build(),
                                                HttpResponse.BodyHandlers.discarding())
                                        .statusCode()
                                == 200;
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofSeconds(20),
                "readiness after the first listing");
    }

    /** #19.10: an API outage costs a few requests and one warning, not four of each a second; afterwards all is known. */
    @Test
    void anApiOutageIsRetriedWithBackoffAndWarnedAboutOnce() throws Exception {
        ConfigurableApplicationContext portal = portal();
        KubeState state = portal.getBean(KubeState.class);
        await(state::synced, Duration.ofSeconds(20), "the first listing");
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(KubeState.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            api.listsRefused.set(0);
            api.watchesRefused.set(0);
            api.down();
            // the cluster changes while this replica cannot see it
            api.fabric8()
                    .v1()
                    .events()
                    .inNamespace(KubeApiDouble.NAMESPACE)
                    .resource(new io.fabric8.kubernetes.api.model.EventBuilder()
                            .withNewMetadata()
                            .withName("during-outage")
                            .withNamespace(KubeApiDouble.NAMESPACE)
                            .endMetadata()
                            .withNewInvolvedObject()
                            .withKind("Pod")
                            .withName("outage-probe")
                            .withNamespace(KubeApiDouble.NAMESPACE)
                            .endInvolvedObject()
                            .withReason("Scheduled")
                            .withMessage("seen after the outage")
                            .withCount(1)
                            .withLastTimestamp(Instant.now().toString())
                            .build())
                    .create();
            Thread.sleep(10_000);
            int lists = api.listsRefused.get() + api.watchesRefused.get();
            long warnings = lines.list.stream()
                    .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .count();
            api.up();

            // four informers, 10 s: retrying every second is ~40 requests and ~40 warnings; backing off from 1 s, ~16
            assertThat(lists).as("requests during the outage").isBetween(4, 24);
            assertThat(warnings)
                    .as("WARN lines during the outage: %s", lines.list)
                    .isBetween(1L, 2L);
            await(
                    () -> !state.eventsFor("Pod", "outage-probe").isEmpty(),
                    Duration.ofSeconds(45),
                    "the informers to resync");
            await(
                    () -> lines.list.stream()
                            .anyMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.INFO
                                    && e.getFormattedMessage().contains("answers again")),
                    Duration.ofSeconds(10),
                    "the recovery's INFO line");
        } finally {
            api.up();
            logger.detachAppender(lines);
            api.fabric8()
                    .v1()
                    .events()
                    .inNamespace(KubeApiDouble.NAMESPACE)
                    .withName("during-outage")
                    .delete();
        }
    }

    @Test
    void failedBuildSaysWhichStepFailedWithTheLogTail() throws Exception {
        String repo = git.createRepo("k8s-broken", Map.of("requirements.txt", "not-a-real-package\n"));
        ConfigurableApplicationContext portal = portal();
        jobs.failBuilds = true;

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, "main"));

        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).isEqualTo("failed");
        assertThat((String) failed.get("message"))
                .contains("step 'build'")
                .contains("No matching distribution found for not-a-real-package")
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
    }

    /**
     * #19.7: a failed build Job of a commit is not followed by the next launch of that commit (which would fail at
     * once, until ttl-after-finished removed the Job): it is replaced, and the commit builds again.
     */
    @Test
    void aCommitWhoseBuildFailedBuildsAgainOnTheNextLaunch() throws Exception {
        String repo = git.createRepo("k8s-retry", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal = portal();
        jobs.failBuilds = true; // e.g. a package index that was down
        EventStream.Result failed = EventStream.read(buildUrl(portal, repo, "main"));
        assertThat(failed.last().get("phase")).as(messages(failed)).isEqualTo("failed");
        var failedJob = api
                .fabric8()
                .batch()
                .v1()
                .jobs()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withLabel("app.kubernetes.io/component", "build")
                .list()
                .getItems()
                .stream()
                .filter(j -> j.getMetadata().getName().contains("k8s-retry"))
                .findFirst()
                .orElseThrow();
        assertThat(failedJob.getStatus().getConditions())
                .anySatisfy(c -> assertThat(c.getType()).isEqualTo("Failed"));
        jobs.failBuilds = false;
        int before = jobs.jobsSeen.get();

        EventStream.Result again = EventStream.read(buildUrl(portal, repo, "main"));

        assertThat(again.last().get("phase")).as(messages(again)).isEqualTo("ready");
        assertThat(again.phases()).contains("building");
        assertThat(messages(again))
                .contains("The last build of this commit failed; building it again.")
                .contains("#9 pushing layers done")
                .doesNotContain("No matching distribution found");
        assertThat(jobs.jobsSeen.get() - before).as("one new Job").isEqualTo(1);
        var job = api.fabric8()
                .batch()
                .v1()
                .jobs()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName(failedJob.getMetadata().getName())
                .get();
        assertThat(job.getMetadata().getUid())
                .isNotEqualTo(failedJob.getMetadata().getUid());
        await(
                () -> api.fabric8()
                        .pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withLabel(
                                KubernetesBuilder.CONTROLLER_UID,
                                failedJob.getMetadata().getUid())
                        .list()
                        .getItems()
                        .isEmpty(),
                Duration.ofSeconds(10),
                "the failed Job's Pod to go with it");
    }

    /** The prepare step's refusal reaches the visitor with its own status and sentence, not a generic build failure. */
    @Test
    void aRepositoryOverTheCheckoutLimitFailsTheBuildJobWith413AndItsSentence() throws Exception {
        Map<String, String> files = new java.util.HashMap<>();
        for (int i = 0; i < 30; i++) {
            files.put("f" + i + ".txt", "file " + i + "\n");
        }
        String repo = git.createRepo("k8s-many-files", files);
        ConfigurableApplicationContext portal = portal("ferry.repo.max-checkout-files=20");

        EventStream.Result result = EventStream.read(buildUrl(portal, repo, "main"));

        Map<String, Object> failed = result.last();
        assertThat(failed.get("phase")).as(result.events().toString()).isEqualTo("failed");
        assertThat(failed.get("status_code")).isEqualTo(413);
        assertThat(((String) failed.get("message")).strip())
                .isEqualTo("This repository holds more than 20 files and "
                        + "folders when checked out (Ferry's limit for one repository, ferry.repo.max-checkout-files). Launch a "
                        + "smaller repository, or ask the operator to raise the limit.");
    }

    /** The build URL of a new commit of a new repository whose image is in the registry already: a launch builds nothing. */
    static String prebuilt(ConfigurableApplicationContext portal, String name) throws Exception {
        String repo = git.createRepo(name, Map.of("requirements.txt", "ipykernel\n"));
        String commit = git.commit(name, "main", Map.of("README.md", "x\n"), "second");
        registry.push(
                registry.properties("", "").repository(new dev.ferry.build.ImageKey(repo, commit).slug()), commit);
        return buildUrl(portal, repo, commit);
    }

    static int occurrences(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    void assertNoSessionPodLeftOf(ConfigurableApplicationContext portal, String name) throws InterruptedException {
        await(
                () -> api
                        .fabric8()
                        .pods()
                        .inNamespace(KubeApiDouble.NAMESPACE)
                        .withLabel("ferry.dev/repo")
                        .list()
                        .getItems()
                        .stream()
                        .noneMatch(p -> p.getMetadata()
                                        .getLabels()
                                        .get("ferry.dev/repo")
                                        .contains(name)
                                && "session".equals(p.getMetadata().getLabels().get("app.kubernetes.io/component"))),
                Duration.ofSeconds(10),
                "the failed session pods to be deleted");
        assertThat(portal.getBean(dev.ferry.capacity.Capacity.class).used()).isZero();
    }

    /**
     * #19.6: a session whose server stops answering the readiness probe for a while (a kernel busy under its CPU limit)
     * is a user's work, not a launch that died: the janitor leaves it; a Pod that never became Ready is removed.
     */
    @Test
    void theJanitorRemovesPodsThatNeverBecameReadyButNotASessionThatIsBusyForAWhile() throws Exception {
        String repo = git.createRepo("k8s-busy", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal = portal();
        Map<String, Object> ready =
                EventStream.read(buildUrl(portal, repo, "main")).last();
        assertThat(ready.get("phase")).isEqualTo("ready");
        String busy = "ferry-" + sessionId(ready);
        var busyPod = sessionPod(sessionId(ready));
        assertThat(busyPod.getSpec().getContainers().get(0).getReadinessProbe().getTimeoutSeconds())
                .as("the probe's timeout, for a server busy under its CPU limit")
                .isGreaterThanOrEqualTo(5);
        assertThat(busyPod.getSpec().getContainers().get(0).getReadinessProbe().getFailureThreshold())
                .isGreaterThanOrEqualTo(3);

        // a launch whose replica died before its Pod ever became Ready
        kubelet.mode = FakeKubelet.Mode.NEVER_READY;
        String stuck = "ferry-" + "n".repeat(32);
        String created = Instant.now().toString();
        api.fabric8()
                .pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .resource(new io.fabric8.kubernetes.api.model.PodBuilder(busyPod)
                        .withNewMetadata()
                        .withName(stuck)
                        .withNamespace(KubeApiDouble.NAMESPACE)
                        .withLabels(Map.of(
                                "app.kubernetes.io/managed-by",
                                "ferry",
                                "app.kubernetes.io/component",
                                "session",
                                "ferry.dev/session",
                                "n".repeat(32)))
                        .withAnnotations(
                                Map.of("ferry.dev/created", created, "ferry.dev/last-activity", created)) // never used
                        .endMetadata()
                        .withStatus(null)
                        .build())
                .create();
        KubeState state = portal.getBean(KubeState.class);
        await(
                () -> state.pod(stuck) != null
                        && state.pod(stuck).getStatus() != null
                        && "Running".equals(state.pod(stuck).getStatus().getPhase()),
                Duration.ofSeconds(10),
                "the stuck pod to run");

        // the busy session's probe stops answering
        kubelet.ready(busy, false);
        await(
                () -> !KubernetesSessionRuntime.runningAndReady(state.pod(busy)),
                Duration.ofSeconds(10),
                "the session not Ready");

        portal.getBean(KubeJanitor.class)
                .sweep(java.time.OffsetDateTime.now().plusMinutes(10)); // > 2 × the launch timeout

        // (the double marks a deleted Pod with a deletionTimestamp, as a real server does for its grace period)
        await(
                () -> sessionPod("n".repeat(32)) == null
                        || sessionPod("n".repeat(32)).getMetadata().getDeletionTimestamp() != null,
                Duration.ofSeconds(10),
                "the never-ready pod to be removed");
        assertThat(sessionPod(sessionId(ready)))
                .as("the busy session's Pod")
                .isNotNull()
                .satisfies(
                        p -> assertThat(p.getMetadata().getDeletionTimestamp()).isNull());
        kubelet.ready(busy, true);
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        assertThat(jupyter.execute(jupyter.startKernel(), "print(6*7)")).isEqualTo("42\n");
    }

    @Test
    void anImageTheRegistryDoesNotHaveFailsTheLaunchAtOnceWithASentenceAndLeavesNoPod() throws Exception {
        ConfigurableApplicationContext portal = portal(); // launch timeout 60 s
        String url = prebuilt(portal, "k8s-nopull");

        kubelet.mode = FakeKubelet.Mode.IMAGE_PULL_FAILS;
        long started = System.nanoTime();
        EventStream.Result pull = EventStream.read(url);

        assertThat(pull.last().get("phase")).isEqualTo("failed");
        assertThat((String) pull.last().get("message"))
                .contains("is not in the registry")
                .contains("manifest unknown")
                .contains("launch again to rebuild it");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
        assertNoSessionPodLeftOf(portal, "k8s-nopull");
    }

    @Test
    void aRegistryThatTimesOutThenFailsThenServesDelaysTheLaunchButDoesNotEndIt() throws Exception {
        String log = launchedReadyWhileTheKubelet(FakeKubelet.Mode.IMAGE_PULL_FLAKY, "k8s-flakypull");

        // each of the kubelet's errors relayed once, though its status and its event both carry it
        assertThat(occurrences(log, "i/o timeout")).as(log).isEqualTo(1);
        assertThat(occurrences(log, "503 Service Unavailable")).as(log).isEqualTo(1);
        assertThat(log).contains("Pulled: Successfully pulled image");
    }

    @Test
    void aPodWaitingForTheAutoscalersNewNodeLaunchesAndThePageRelaysTheSchedulerAndTheAutoscaler() throws Exception {
        String log = launchedReadyWhileTheKubelet(FakeKubelet.Mode.SCALE_UP, "k8s-scaleup");

        // the scheduler said it three times (condition, two events): the page says it once
        assertThat(occurrences(log, FakeKubelet.NO_ROOM)).as(log).isEqualTo(1);
        assertThat(log).contains("TriggeredScaleUp: pod triggered scale-up: [{ferry-pool 3->4 (max: 10)}]");
        assertThat(log.indexOf(FakeKubelet.NO_ROOM)).isLessThan(log.indexOf("Scheduled: Successfully assigned"));
    }

    /**
     * Launches a prebuilt repository while the fake kubelet behaves as {@code mode}; asserts that the launch ends ready
     * with a server that answers, and returns what its page said on the way.
     */
    private String launchedReadyWhileTheKubelet(FakeKubelet.Mode mode, String repoName) throws Exception {
        String url = prebuilt(portal(), repoName);

        kubelet.mode = mode;
        EventStream.Result result = EventStream.read(url);

        String log = messages(result);
        assertThat(result.last().get("phase")).as(log).isEqualTo("ready");
        assertThat(new JupyterClient((String) result.last().get("url"), (String)
                                result.last().get("token"))
                        .get("api/status")
                        .statusCode())
                .isEqualTo(200);
        return log;
    }

    @Test
    void aPodNoNodeHasRoomForFailsAtTheLaunchTimeoutNamingTheSchedulersLastMessage() throws Exception {
        ConfigurableApplicationContext portal = portal("ferry.kubernetes.session.launch-timeout=6s");
        String url = prebuilt(portal, "k8s-noroom");

        kubelet.mode = FakeKubelet.Mode.UNSCHEDULABLE;
        long started = System.nanoTime();
        EventStream.Result result = EventStream.read(url);

        String message = (String) result.last().get("message");
        assertThat(result.last().get("phase")).as(messages(result)).isEqualTo("failed");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(6));
        assertThat(message)
                .contains("did not start within 6 seconds")
                .contains("no node in the cluster had room")
                .contains("the scheduler last said: \"" + FakeKubelet.NO_ROOM + "\"")
                .contains("1 max node group size reached");
        String progress = messages(new EventStream.Result(
                result.status(),
                result.events().subList(0, result.events().size() - 1),
                result.ids(),
                result.comments()));
        assertThat(occurrences(progress, FakeKubelet.NO_ROOM)).as(progress).isEqualTo(1); // once, not at every retry
        assertNoSessionPodLeftOf(portal, "k8s-noroom");
    }

    @Test
    void sessionPodsAndBuildJobsCarryTheConfiguredImagePullSecrets() throws Exception {
        String repo = git.createRepo("k8s-pullsecrets", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal = portal(
                "ferry.kubernetes.session.image-pull-secrets=session-pull",
                "ferry.kubernetes.build.image-pull-secrets=mirror-pull,builder-pull");

        Map<String, Object> ready =
                EventStream.read(buildUrl(portal, repo, "main")).last();

        assertThat(ready.get("phase")).isEqualTo("ready");
        assertThat(sessionPod(sessionId(ready)).getSpec().getImagePullSecrets())
                .extracting(r -> r.getName())
                .containsExactly("session-pull");
        assertThat(api.fabric8().batch().v1().jobs().inNamespace(KubeApiDouble.NAMESPACE).list().getItems().stream()
                        .filter(j -> j.getMetadata()
                                .getLabels()
                                .getOrDefault("ferry.dev/repo", "")
                                .contains("k8s-pullsecrets")))
                .singleElement()
                .satisfies(j -> assertThat(j.getSpec().getTemplate().getSpec().getImagePullSecrets())
                        .extracting(r -> r.getName())
                        .containsExactly("mirror-pull", "builder-pull"));
    }

    @Test
    void aSessionWhosePodIsDeletedEndsWithAReason() throws Exception {
        String repo = git.createRepo("k8s-deleted", Map.of("requirements.txt", "ipykernel\n"));
        ConfigurableApplicationContext portal = portal();
        Map<String, Object> ready =
                EventStream.read(buildUrl(portal, repo, "main")).last();
        String id = sessionId(ready);

        api.fabric8()
                .pods()
                .inNamespace(KubeApiDouble.NAMESPACE)
                .withName("ferry-" + id)
                .delete();

        await(
                () -> portal.getBean(SessionService.class).find(id).isEmpty(),
                Duration.ofSeconds(10),
                "the session to end");
        HttpResponse<String> page = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create((String) ready.get("url")))
                                .header("Accept", "text/html")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(404);
        assertThat(page.body()).contains("its Pod was deleted");
        // the seat is given back once the platform has been asked to clean up after the session
        await(
                () -> portal.getBean(dev.ferry.capacity.Capacity.class).used() == 0,
                Duration.ofSeconds(5),
                "the seat to be freed");
    }

    @Test
    void portalStartsWithoutTheApiServerAndRecoversWhenItAnswers() throws Exception {
        int port;
        try (var socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        ConfigurableApplicationContext portal = portal("ferry.kubernetes.api-url=http://127.0.0.1:" + port);
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> down = http.send(
                HttpRequest.newBuilder(URI.create(base(portal) + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).contains("Kubernetes API").contains("could not be reached");

        try (KubeApiDouble late = new KubeApiDouble(port)) {
            await(
                    () -> {
                        try {
                            return http.send(
                                                    HttpRequest.newBuilder(URI.create(base(portal) + "/health"))
                                                            .build(),
                                                    HttpResponse.BodyHandlers.ofString())
                                            .statusCode()
                                    == 200;
                        } catch (Exception e) {
                            return false;
                        }
                    },
                    Duration.ofSeconds(30),
                    "health to recover once the API server answers");
        }
    }

    private static EventStream.Result read(String url) {
        try {
            return EventStream.read(url);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
