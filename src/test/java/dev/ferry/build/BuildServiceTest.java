package dev.ferry.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.ferry.FerryException;
import dev.ferry.repo.RepoSpec;
import dev.ferry.repo.ResolvedRepo;

/** The build table's rules, with a builder that stands for the platform's (the platforms' own tests use real builds). */
class BuildServiceTest {

    private static ResolvedRepo repo(String commit) {
        RepoSpec spec = new RepoSpec("git", "x/main", "https://example.org/r.git", "main");
        return new ResolvedRepo(spec, commit, "x/" + commit, "refs/heads/main");
    }

    /** Builds when released; remembers successes like a build cache. */
    static final class GateBuilder implements Builder {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger builds = new AtomicInteger();
        final Set<ImageKey> built = ConcurrentHashMap.newKeySet();
        volatile boolean fail;

        @Override
        public Optional<Environment> findBuilt(ImageKey key) {
            return built.contains(key) ? Optional.of(new Environment(key, "img")) : Optional.empty();
        }

        @Override
        public Environment build(BuildContext context) throws Exception {
            builds.incrementAndGet();
            while (!release.await(20, TimeUnit.MILLISECONDS)) {
                if (context.cancelled()) {
                    throw new BuildFailedException(504, "stopped");
                }
            }
            if (fail) {
                throw new BuildFailedException(422, "requirements.txt failed");
            }
            built.add(context.key());
            return new Environment(context.key(), "img");
        }
    }

    /** A build service over {@code builder} that stops a build after {@code timeout} and runs {@code concurrency} at once. */
    private static BuildService service(Builder builder, Duration timeout, int concurrency) {
        return new BuildService(
                builder, new BuildProperties(timeout, concurrency, false, BuildProperties.Log.DEFAULTS));
    }

    @Test
    void requestsForOneCommitJoinOneBuild() throws Exception {
        GateBuilder builder = new GateBuilder();
        try (BuildService service = service(builder, Duration.ofMinutes(1), 2)) {
            Build first = service.request(repo("a".repeat(40)));
            Build second = service.request(repo("a".repeat(40)));
            assertThat(second).isSameAs(first);
            builder.release.countDown();
            first.result().get(5, TimeUnit.SECONDS);
            assertThat(builder.builds.get()).isEqualTo(1);
            Build later = service.request(repo("a".repeat(40)));
            assertThat(later.cached()).isTrue();
            assertThat(builder.builds.get()).isEqualTo(1);
        }
    }

    @Test
    void failedBuildIsForgottenSoTheNextRequestBuildsAgain() throws Exception {
        GateBuilder builder = new GateBuilder();
        builder.fail = true;
        builder.release.countDown();
        try (BuildService service = service(builder, Duration.ofMinutes(1), 2)) {
            Build failed = service.request(repo("b".repeat(40)));
            assertThatThrownBy(() -> failed.result().get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(BuildFailedException.class);
            assertThat(failed.state()).isEqualTo(Build.State.FAILED);
            await().until(() -> service.inProgress() == 0);
            Build again = service.request(repo("b".repeat(40)));
            assertThat(again).isNotSameAs(failed);
            assertThat(again.cached()).isFalse();
        }
    }

    @Test
    void buildPastTheTimeoutIsStoppedWithASentenceNamingTheLimit() throws Exception {
        GateBuilder builder = new GateBuilder();
        try (BuildService service = service(builder, Duration.ofMillis(300), 2)) {
            Build build = service.request(repo("c".repeat(40)));
            assertThatThrownBy(() -> build.result().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(FerryException.class)
                    .cause()
                    .hasMessage("The build took longer than the limit of 300 milliseconds and was stopped.");
            assertThat(((FerryException) catchCause(build)).status()).isEqualTo(504);
        }
    }

    @Test
    void buildsBeyondTheConcurrencyLimitWaitInLine() throws Exception {
        GateBuilder builder = new GateBuilder();
        try (BuildService service = service(builder, Duration.ofMinutes(1), 1)) {
            Build running = service.request(repo("d".repeat(40)));
            Build waiting = service.request(repo("e".repeat(40)));
            await().until(() -> running.state() == Build.State.RUNNING);
            Thread.sleep(100);
            assertThat(waiting.state()).isEqualTo(Build.State.QUEUED);
            assertThat(builder.builds.get()).isEqualTo(1);
            builder.release.countDown();
            waiting.result().get(5, TimeUnit.SECONDS);
            assertThat(builder.builds.get()).isEqualTo(2);
        }
    }

    @Test
    void buildsInLineAreToldTheirPositionAsTheLineMoves() throws Exception {
        GateBuilder builder = new GateBuilder();
        try (BuildService service = service(builder, Duration.ofMinutes(1), 1)) {
            Build running = service.request(repo("f".repeat(40)));
            Build second = service.request(repo("1".repeat(40)));
            Build third = service.request(repo("2".repeat(40)));
            Awaitility.await().until(() -> running.state() == Build.State.RUNNING);
            List<String> told = new CopyOnWriteArrayList<>();
            third.log().subscribe(entry -> told.add(entry.text()));
            assertThat(told).containsExactly("All 1 build slots are busy. This build is 2nd in line.\n");
            builder.release.countDown();
            third.result().get(5, TimeUnit.SECONDS);
            assertThat(second.result()).isCompleted();
            assertThat(told.subList(0, 2))
                    .containsExactly(
                            "All 1 build slots are busy. This build is 2nd in line.\n",
                            "This build is now 1st in line.\n");
        }
    }

    /** Builds one commit ("slow") until released, deaf to being stopped, as a build slow to stop is; others at once. */
    static final class SlowToStopBuilder implements Builder {
        final CountDownLatch release = new CountDownLatch(1);
        final Set<String> built = ConcurrentHashMap.newKeySet();

        @Override
        public Optional<Environment> findBuilt(ImageKey key) {
            return Optional.empty();
        }

        @Override
        public Environment build(BuildContext context) throws Exception {
            built.add(context.repo().commit());
            if (context.repo().commit().startsWith("3")) {
                while (true) {
                    try {
                        release.await();
                        break;
                    } catch (InterruptedException e) {
                        // slow to stop: goes on until released
                    }
                }
            }
            return new Environment(context.key(), "img");
        }
    }

    /** A build still waiting for a slot when its time is up fails then, instead of never ending. */
    @Test
    void aBuildWhoseTimeIsUpWhileInLineFailsThenNamingTheLimit() throws Exception {
        SlowToStopBuilder builder = new SlowToStopBuilder();
        try (BuildService service = service(builder, Duration.ofMillis(500), 1)) {
            Build holding = service.request(repo("3".repeat(40)));
            Build waiting = service.request(repo("4".repeat(40)));
            assertThatThrownBy(() -> waiting.result().get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .hasMessage("The build took longer than the limit of 500 milliseconds and was stopped.");
            assertThat(waiting.state()).isEqualTo(Build.State.FAILED);
            assertThat(holding.result()).as("the slot is still held").isNotDone();
            builder.release.countDown();
            holding.result().handle((env, error) -> null).get(5, TimeUnit.SECONDS);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> service.inProgress() == 0);
            assertThat(builder.built).as("the build stopped in line never ran").containsExactly("3".repeat(40));
        }
    }

    private static Throwable catchCause(Build build) {
        try {
            build.result().get();
            return null;
        } catch (Exception e) {
            return e.getCause();
        }
    }
}
