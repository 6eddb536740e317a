package dev.ferry.platform.kubernetes;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1Pod;

import dev.ferry.build.Environment;
import dev.ferry.build.ImageKey;
import dev.ferry.launch.LaunchService;
import dev.ferry.repo.GitRepoProvider;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.session.SecureIds;
import dev.ferry.session.SessionSpec;

/**
 * The session Pod and build Job Ferry would create for a sample repository, built by the same code as for a user's
 * launch ({@link SessionPods}, {@link BuildJobs}): what {@code manifests} prints and {@code check-cluster} sends as a
 * dry run.
 */
final class SampleLaunch {

    static final String REPOSITORY = "https://github.com/binder-examples/requirements";
    /** Not a commit of that repository: the objects are only looked at, or sent as a dry run. */
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    private SampleLaunch() {}

    static ResolvedRepo repo() {
        String spec = URLEncoder.encode(REPOSITORY, StandardCharsets.UTF_8) + "/main";
        return new ResolvedRepo(new GitRepoProvider().parse(spec), COMMIT, spec, "refs/heads/main");
    }

    /** A session of the sample repository, with a fresh id and token as {@code SessionService} gives each. */
    static V1Pod sessionPod(SessionPods pods, BuildJobs jobs, String publicUrl) {
        ResolvedRepo repo = repo();
        ImageKey key = ImageKey.of(repo);
        String base = publicUrl.isBlank() ? "https://ferry.example.org" : publicUrl.replaceAll("/+$", "");
        SessionSpec spec = new SessionSpec(
                SecureIds.sessionId(),
                SecureIds.token(),
                repo,
                new Environment(key, jobs.image(key)),
                LaunchService.binderEnvironmentFor(repo, base, ""),
                List.of());
        return pods.pod(spec, Instant.now());
    }

    /** The sample repository's build Job, with the deadline a build gets ({@code ferry.build.timeout}). */
    static V1Job buildJob(BuildJobs jobs, Duration buildTimeout) {
        ResolvedRepo repo = repo();
        ImageKey key = ImageKey.of(repo);
        return jobs.job(KubernetesBuilder.jobName(key), repo, key, Math.max(60, buildTimeout.toSeconds()));
    }
}
