package dev.ferry.platform.kubernetes;

import java.io.PrintStream;
import java.util.Arrays;

import io.kubernetes.client.openapi.JSON;

import dev.ferry.FerryProperties;
import dev.ferry.build.BuildProperties;

/**
 * {@code java -jar ferry.jar manifests [--ferry.… settings]}: prints the session Pod and the build Job (with its
 * {@code prepare} init container) Ferry would create for a sample repository with these settings, as one
 * {@code v1 List} — built by the same code as for a launch and serialised by the same client, each item on its own
 * line exactly as it would be POSTed — for an operator to review or to give to their own checks (kyverno, conftest,
 * {@code kubectl apply --dry-run=server -f -}). Nothing is sent to a cluster. Exit codes: 0 printed, 2 the settings
 * cannot be used (a sentence on standard error).
 */
public final class ManifestsCommand {

    public static final String NAME = "manifests";

    private ManifestsCommand() {}

    /** {@code args}: the command line, starting with {@value #NAME}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try (CommandSettings settings = CommandSettings.load(Arrays.copyOfRange(args, 1, args.length))) {
            KubernetesProperties kubernetes = settings.get(KubernetesProperties.class);
            BuildJobs jobs = settings.buildJobs();
            var pod = SampleLaunch.sessionPod(
                    new SessionPods(kubernetes.session()),
                    jobs,
                    settings.get(FerryProperties.class).publicUrl());
            var job = SampleLaunch.buildJob(
                    jobs, settings.get(BuildProperties.class).timeout());
            out.println("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
            out.println(JSON.serialize(pod) + ",");
            out.println(JSON.serialize(job));
            out.println("]}");
            return 0;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println(e.getMessage());
            return 2;
        }
    }
}
