package dev.ferry.buildpack;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.NullProgressMonitor;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.FerryException;
import dev.ferry.repo.ArchiveFetcher;
import dev.ferry.repo.ArchiveRecord;
import dev.ferry.repo.GitRepoProvider;
import dev.ferry.repo.GuardedUrl;
import dev.ferry.repo.HostResolver;
import dev.ferry.repo.RecordDownloader;
import dev.ferry.repo.RemoteGit;
import dev.ferry.repo.RepoCheckout;
import dev.ferry.repo.RepoSpec;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.repo.UrlGuard;
import dev.ferry.repo.Urls;

/**
 * The jar's command line, besides serving: {@code detect <dir>} prints the {@link BuildPlan} as JSON,
 * {@code dockerfile <dir>} prints the rendered Dockerfile, {@code prepare} fetches a commit and writes a build
 * context (used by the kubernetes build Job, so that cloning and detection run in the sandboxed build pod with the
 * same code as the local platform). Exit codes: 0 done, 2 usage, 3 the repository cannot be used (message on stderr).
 */
public final class BuildpackCommands {

    public static final Set<String> COMMANDS = Set.of("detect", "dockerfile", "prepare");

    private BuildpackCommands() {}

    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, System.getenv());
    }

    /** {@code env}: the process environment ({@code FERRY_REPO_ALLOWED_SCHEMES}, … configure {@code prepare}). */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        try {
            return switch (args[0]) {
                case "detect" -> {
                    requireArgs(args, 2, "detect <repository folder>");
                    out.println(
                            json().writeValueAsString(PlanJson.of(detector(env).detect(Path.of(args[1])))));
                    yield 0;
                }
                case "dockerfile" -> {
                    requireArgs(args, 2, "dockerfile <repository folder>");
                    Path dir = Path.of(args[1]);
                    BuildPlan plan = detector(env).detect(dir);
                    String rendered = renderer(env)
                            .render(plan, new DockerfileRenderer.Source("local:" + dir.getFileName(), "unknown"));
                    out.print(rendered != null ? rendered : new RepoFiles(dir).read(plan.inConfigDir("Dockerfile")));
                    yield 0;
                }
                case "prepare" -> prepare(Arrays.copyOfRange(args, 1, args.length), out, env);
                default -> usage(err);
            };
        } catch (Usage e) {
            err.println(e.getMessage());
            return 2;
        } catch (FerryException e) {
            err.println(e.getMessage());
            terminationMessage(env, e);
            return 3;
        }
    }

    /**
     * {@code <status> <sentence>} into the file {@code FERRY_TERMINATION_LOG} names (the container's termination message
     * on Kubernetes), so that the portal fails the build with the status that fits (413 for a repository over a limit),
     * not a generic one.
     */
    private static void terminationMessage(Map<String, String> env, FerryException e) {
        String file = env.get("FERRY_TERMINATION_LOG");
        if (file == null || file.isBlank()) {
            return;
        }
        try {
            Files.writeString(Path.of(file), e.status() + " " + e.getMessage(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException ignored) {
            // the sentence is in the log too; only its status is lost
        }
    }

    /** A whole-number setting from the environment the portal gave the build Pod, or its default. */
    private static long number(Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        return value == null ? fallback : Long.parseLong(value);
    }

    /**
     * {@code prepare --repo <url> --commit <sha> [--ref <full ref>] --out <dir>}: fetches exactly the commit into
     * {@code <dir>} (the build context), detects the plan and writes {@code <dir>/.ferry/Dockerfile} (for a
     * repository's own Dockerfile a copy of it, and its path into {@code <dir>/.ferry/dockerfile-path}) and
     * {@code plan.json}. Without {@code --repo}, the URL comes from {@code FERRY_REPO_URL}.
     */
    private static int prepare(String[] args, PrintStream out, Map<String, String> env) throws Usage {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new Usage("prepare --repo <url> --commit <sha> [--ref <ref>] --out <dir>");
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        // FERRY_REPO_URL: a clone URL with credentials stays out of the process arguments
        String repoUrl = options.getOrDefault("repo", env.get("FERRY_REPO_URL"));
        String commit = options.get("commit");
        String outDir = options.get("out");
        if (repoUrl == null || commit == null || outDir == null || !commit.matches("[0-9a-f]{40}")) {
            throw new Usage("prepare --repo <url> --commit <40-hex sha> [--ref <ref>] --out <dir>");
        }
        List<String> schemes =
                List.of(env.getOrDefault("FERRY_REPO_ALLOWED_SCHEMES", "https").split(","));
        boolean allowPrivate = Boolean.parseBoolean(env.getOrDefault("FERRY_REPO_ALLOW_PRIVATE_ADDRESSES", "false"));
        UrlGuard guard = new UrlGuard(schemes, allowPrivate, HostResolver.system());
        // the git fetch and an archive's downloads share the portal's timeout and fetch limits
        Duration timeout = Duration.ofSeconds(number(env, "FERRY_REPO_GIT_TIMEOUT_SECONDS", 60));
        long maxFetchBytes = number(env, "FERRY_REPO_MAX_FETCH_BYTES", RemoteGit.DEFAULT_MAX_FETCH_BYTES);
        Duration maxFetchTime = Duration.ofSeconds(
                number(env, "FERRY_REPO_MAX_FETCH_SECONDS", RemoteGit.DEFAULT_MAX_FETCH_TIME.toSeconds()));
        RemoteGit git = new RemoteGit(
                guard,
                timeout,
                maxFetchBytes,
                maxFetchTime,
                number(env, "FERRY_REPO_MAX_FETCH_OBJECTS", RemoteGit.DEFAULT_MAX_FETCH_OBJECTS));
        long maxCheckoutBytes = number(env, "FERRY_REPO_MAX_CHECKOUT_BYTES", RepoCheckout.DEFAULT_MAX_BYTES);
        long maxCheckoutFiles = number(env, "FERRY_REPO_MAX_CHECKOUT_FILES", RepoCheckout.DEFAULT_MAX_FILES);
        Path dir = Path.of(outDir);
        try {
            String archiveFiles = env.get("FERRY_ARCHIVE_FILES");
            if (archiveFiles != null) {
                // a record of a research archive: its files, through the same guard and limits as the portal's builds
                ArchiveFetcher fetcher = new ArchiveFetcher(guard, timeout, maxFetchBytes, maxFetchTime);
                // scratch inside the build context: the pod's root file system is read-only, and moves stay on one disk
                new RecordDownloader(fetcher, maxCheckoutBytes, maxCheckoutFiles)
                        .fetchInto(
                                ArchiveRecord.fromFetchJson(archiveFiles, commit),
                                dir,
                                dir.resolve(".ferry-fetching"),
                                out::println);
            } else {
                GuardedUrl url = guard.check(repoUrl);
                String spec = URLEncoder.encode(repoUrl, StandardCharsets.UTF_8) + "/" + commit;
                RepoSpec repoSpec = new GitRepoProvider().parse(spec);
                ResolvedRepo resolved = new ResolvedRepo(repoSpec, commit, spec, options.get("ref"));
                try (Git local = Git.init()
                        .setDirectory(dir.toFile())
                        .setInitialBranch("main")
                        .call()) {
                    git.fetchCommit(local.getRepository(), url, resolved, NullProgressMonitor.INSTANCE);
                    new RepoCheckout(maxCheckoutBytes, maxCheckoutFiles).checkout(local.getRepository(), commit);
                }
            }
            BuildPlan plan = detector(env).detect(dir);
            Path meta = dir.resolve(".ferry");
            Files.createDirectories(meta);
            String dockerfile = renderer(env).render(plan, new DockerfileRenderer.Source(Urls.redact(repoUrl), commit));
            if (dockerfile != null) {
                Files.writeString(meta.resolve("Dockerfile"), dockerfile, StandardCharsets.UTF_8);
            } else {
                // the repository's own Dockerfile, in the place the builder reads every Dockerfile from
                Files.copy(
                        dir.resolve(plan.inConfigDir("Dockerfile")),
                        meta.resolve("Dockerfile"),
                        StandardCopyOption.REPLACE_EXISTING);
                Files.writeString(
                        meta.resolve("dockerfile-path"), plan.inConfigDir("Dockerfile"), StandardCharsets.UTF_8);
            }
            // BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile instead of the context's .dockerignore
            Files.writeString(
                    meta.resolve("Dockerfile.dockerignore"),
                    DockerfileRenderer.ignoreFile(dir, plan),
                    StandardCharsets.UTF_8);
            Files.writeString(
                    meta.resolve("plan.json"), json().writeValueAsString(PlanJson.of(plan)), StandardCharsets.UTF_8);
            out.println("prepared " + Urls.redact(repoUrl) + " at " + commit + " (" + plan.buildpack() + ")");
            return 0;
        } catch (FerryException e) {
            throw e;
        } catch (Exception e) {
            throw new FerryException(
                    500, "Preparing the build context failed: " + Urls.redact(String.valueOf(e.getMessage())));
        }
    }

    private static Detector detector(Map<String, String> env) {
        return new Detector(Optional.of(BuildpackEnvironment.from(env).s2iBuilder()));
    }

    /** With the portal's {@code ferry.buildpack.*} settings, which the build Job passes as FERRY_BUILDPACK_* variables. */
    private static DockerfileRenderer renderer(Map<String, String> env) {
        return new DockerfileRenderer(BuildpackEnvironment.from(env));
    }

    private static JsonMapper json() {
        return JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    }

    private static void requireArgs(String[] args, int n, String usage) throws Usage {
        if (args.length != n) {
            throw new Usage("usage: java -jar ferry.jar " + usage);
        }
    }

    private static int usage(PrintStream err) {
        err.println(
                "usage: java -jar ferry.jar [detect <dir> | dockerfile <dir> | prepare --repo <url> --commit <sha> --out <dir>]");
        return 2;
    }

    private static final class Usage extends Exception {
        Usage(String message) {
            super(message);
        }
    }
}
