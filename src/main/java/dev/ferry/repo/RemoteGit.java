package dev.ferry.repo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.errors.NoRemoteRepositoryException;
import org.eclipse.jgit.internal.JGitText;
import org.eclipse.jgit.internal.storage.dfs.DfsRepositoryDescription;
import org.eclipse.jgit.internal.storage.dfs.InMemoryRepository;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ProgressMonitor;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.StoredConfig;
import org.eclipse.jgit.transport.FetchConnection;
import org.eclipse.jgit.transport.HttpTransport;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.TagOpt;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.http.HttpConnectionFactory;

/**
 * Every git network operation Ferry performs, under one policy: the URL passed the {@link UrlGuard}; each HTTP
 * connection is checked again; HTTP redirects are refused (a redirect could lead to an address the guard never saw);
 * connect and read time out; JGit's errors become sentences a user can act on, without credentials.
 */
public final class RemoteGit {

    private static final Object INSTALL_LOCK = new Object();

    /** Defaults of {@code ferry.repo.max-fetch-size} and {@code ferry.repo.max-fetch-time}. */
    public static final long DEFAULT_MAX_FETCH_BYTES = 1L << 30;

    public static final Duration DEFAULT_MAX_FETCH_TIME = Duration.ofMinutes(10);
    public static final long DEFAULT_MAX_FETCH_OBJECTS = 1_000_000;

    private final UrlGuard guard;
    private final Duration timeout;
    private final long maxFetchBytes;
    private final Duration maxFetchTime;
    private final long maxFetchObjects;

    public RemoteGit(UrlGuard guard, Duration timeout) {
        this(guard, timeout, DEFAULT_MAX_FETCH_BYTES, DEFAULT_MAX_FETCH_TIME);
    }

    public RemoteGit(UrlGuard guard, Duration timeout, long maxFetchBytes, Duration maxFetchTime) {
        this(guard, timeout, maxFetchBytes, maxFetchTime, DEFAULT_MAX_FETCH_OBJECTS);
    }

    /**
     * @param maxFetchBytes bytes one git operation may receive over HTTP (0: no limit)
     * @param maxFetchTime  how long one git operation (ref listing, or fetching a commit) may take in all
     * @param maxFetchObjects objects one fetch may receive, as the pack announces them (0: no limit; any transport)
     */
    public RemoteGit(
            UrlGuard guard, Duration timeout, long maxFetchBytes, Duration maxFetchTime, long maxFetchObjects) {
        this.guard = guard;
        this.timeout = timeout;
        this.maxFetchBytes = maxFetchBytes;
        this.maxFetchTime = maxFetchTime;
        this.maxFetchObjects = maxFetchObjects;
        installConnectionFactory();
    }

    public UrlGuard guard() {
        return guard;
    }

    private static void installConnectionFactory() {
        synchronized (INSTALL_LOCK) {
            HttpConnectionFactory current = HttpTransport.getConnectionFactory();
            if (!(current instanceof GuardedConnectionFactory)) {
                HttpTransport.setConnectionFactory(new GuardedConnectionFactory());
            }
        }
    }

    /** {@code git ls-remote}: the refs the remote advertises, by full name (and {@code HEAD}). */
    public Map<String, Ref> listRefs(GuardedUrl url) {
        return withGit(url, () -> {
            InMemoryRepository scratch = new InMemoryRepository(new DfsRepositoryDescription("ls-remote"));
            refuseRedirects(scratch.getConfig());
            try (Transport transport = Transport.open(scratch, transportUri(url))) {
                transport.setTimeout(timeoutSeconds());
                try (FetchConnection connection = transport.openFetch()) {
                    return connection.getRefsMap();
                }
            }
        });
    }

    /**
     * Fetches exactly one commit into {@code local}: by id with depth 1 where the server allows it, else the ref that
     * pointed to it with depth 1, else the full history of branches and tags. Returns when the commit is present.
     */
    public void fetchCommit(Repository local, GuardedUrl url, ResolvedRepo repo, ProgressMonitor monitor) {
        withGit(url, () -> {
            StoredConfig config = local.getConfig();
            refuseRedirects(config);
            config.save();
            Git git = Git.wrap(local);
            GuardedConnectionFactory.Budget budget = GuardedConnectionFactory.current();
            ProgressMonitor limited =
                    new LimitedMonitor(monitor, budget, maxFetchObjects, objectsDir(local), maxFetchBytes);
            List<Function<Git, Boolean>> attempts = List.of(
                    g -> fetch(g, url, List.of(new RefSpec(repo.commit() + ":refs/ferry/build")), 1, limited, repo),
                    g -> repo.fetchRef() != null
                            && fetch(
                                    g,
                                    url,
                                    List.of(new RefSpec("+" + repo.fetchRef() + ":refs/ferry/build")),
                                    1,
                                    limited,
                                    repo),
                    g -> fetch(
                            g,
                            url,
                            List.of(
                                    new RefSpec("+refs/heads/*:refs/remotes/origin/*"),
                                    new RefSpec("+refs/tags/*:refs/tags/*")),
                            0,
                            limited,
                            repo));
            RuntimeException last = null;
            for (Function<Git, Boolean> attempt : attempts) {
                try {
                    if (attempt.apply(git)) {
                        return null;
                    }
                } catch (FetchFailed e) {
                    last = e.cause;
                    if (e.cause.status() != 502) {
                        throw e.cause;
                    }
                }
            }
            if (last != null) {
                throw last;
            }
            throw new RepoException(
                    404,
                    "The commit " + repo.commit() + " is not in " + url.redacted()
                            + " any more; launch the branch or tag again to get its current commit.");
        });
    }

    private boolean fetch(
            Git git, GuardedUrl url, List<RefSpec> specs, int depth, ProgressMonitor monitor, ResolvedRepo repo) {
        try {
            var fetch = git.fetch()
                    .setRemote(transportUri(url).toString())
                    .setRefSpecs(specs)
                    .setTimeout(timeoutSeconds())
                    .setTagOpt(TagOpt.NO_TAGS)
                    .setProgressMonitor(monitor);
            if (depth > 0) {
                fetch.setDepth(depth);
            }
            fetch.call();
        } catch (GitAPIException | RuntimeException e) {
            if (monitor instanceof LimitedMonitor limited && limited.objectsOffered > 0) {
                throw new FetchFailed(RepoLimits.tooManyObjects(maxFetchObjects, limited.objectsOffered));
            }
            if (monitor instanceof LimitedMonitor limited && limited.tooLargeOnDisk) {
                throw new FetchFailed(RepoLimits.tooLarge(maxFetchBytes));
            }
            if (monitor instanceof LimitedMonitor limited && limited.overTime()) {
                throw new FetchFailed(RepoLimits.tooSlow(maxFetchTime));
            }
            if (monitor.isCancelled()) {
                throw new RepoException(499, "The fetch was cancelled.");
            }
            throw new FetchFailed(translate(e, url));
        } catch (URISyntaxException e) {
            throw new FetchFailed(translate(e, url));
        }
        // the last objects of a pack arrive after the monitor's last look
        if (monitor instanceof LimitedMonitor limited && limited.writtenTooMuch()) {
            throw new FetchFailed(RepoLimits.tooLarge(maxFetchBytes));
        }
        try {
            return git.getRepository().getObjectDatabase().has(ObjectId.fromString(repo.commit()));
        } catch (IOException e) {
            throw new FetchFailed(translate(e, url));
        }
    }

    /** Where the fetch writes its pack; null for a repository kept in memory. */
    private static Path objectsDir(Repository local) {
        return local.getDirectory() == null
                ? null
                : local.getDirectory().toPath().resolve("objects");
    }

    private int timeoutSeconds() {
        return (int) Math.max(1, timeout.toSeconds());
    }

    private static void refuseRedirects(StoredConfig config) {
        config.setString("http", null, "followRedirects", "false");
    }

    @FunctionalInterface
    private interface GitCall<T> {
        T call() throws Exception;
    }

    private <T> T withGit(GuardedUrl url, GitCall<T> call) {
        var budget = new GuardedConnectionFactory.Budget(guard, timeout, maxFetchBytes, maxFetchTime);
        return GuardedConnectionFactory.runGuarded(budget, () -> {
            try {
                return call.call();
            } catch (RepoException e) {
                throw e;
            } catch (FetchFailed e) {
                throw e.cause;
            } catch (Exception e) {
                throw translate(e, url);
            }
        });
    }

    /**
     * The URI JGit connects to. HTTP connections resolve through the guard at connection time; {@code git://} opens
     * its own socket, so its host is replaced by the address the guard checked (pinned: no second lookup).
     */
    static URIish transportUri(GuardedUrl url) throws URISyntaxException {
        URIish uri = new URIish(url.url());
        if ("git".equalsIgnoreCase(url.uri().getScheme()) && !url.addresses().isEmpty()) {
            String address = url.addresses().get(0).getHostAddress();
            uri = uri.setHost(address.contains(":") ? "[" + address + "]" : address);
        }
        return uri;
    }

    /**
     * The caller's monitor, cancelled once the operation's time is up, when the pack announces more objects than
     * allowed (JGit's pack parser begins "Receiving objects" with the count from the pack header, then checks
     * {@link #isCancelled()} after each object), or when what the fetch wrote to disk passes the fetch-size bound. The
     * last is what bounds {@code git://}, whose socket JGit opens itself and Ferry cannot count on: the pack is written
     * as it arrives, so its size on disk is the bytes received (checked between objects, at most every 10 ms,
     * and once more when the fetch is done).
     */
    private static final class LimitedMonitor implements ProgressMonitor {
        private static final long DISK_CHECK_NANOS = 10_000_000;
        private final ProgressMonitor delegate;
        private final GuardedConnectionFactory.Budget budget;
        private final long maxObjects;
        private final Path objects;
        private final long maxBytes;
        private long lastDiskCheck = System.nanoTime() - DISK_CHECK_NANOS;
        /** The object count of a pack that was over the limit, else 0. */
        volatile long objectsOffered;
        /** Whether what the fetch wrote passed the fetch-size bound. */
        volatile boolean tooLargeOnDisk;

        LimitedMonitor(
                ProgressMonitor delegate,
                GuardedConnectionFactory.Budget budget,
                long maxObjects,
                Path objects,
                long maxBytes) {
            this.delegate = delegate;
            this.budget = budget;
            this.maxObjects = maxObjects;
            this.objects = objects;
            this.maxBytes = maxBytes;
        }

        private boolean overDisk() {
            if (tooLargeOnDisk || System.nanoTime() - lastDiskCheck < DISK_CHECK_NANOS) {
                return tooLargeOnDisk;
            }
            return writtenTooMuch();
        }

        /** Whether the fetch has written more than the bound into the repository's object store. */
        boolean writtenTooMuch() {
            if (tooLargeOnDisk || objects == null || maxBytes <= 0) {
                return tooLargeOnDisk;
            }
            lastDiskCheck = System.nanoTime();
            try (var files = Files.walk(objects)) {
                long written = files.filter(Files::isRegularFile)
                        .mapToLong(f -> f.toFile().length())
                        .sum();
                tooLargeOnDisk = written > maxBytes;
            } catch (IOException | UncheckedIOException e) {
                // a file renamed while listed: the next check counts it
            }
            return tooLargeOnDisk;
        }

        boolean overTime() {
            try {
                budget.checkTime();
                return false;
            } catch (IOException e) {
                return true;
            }
        }

        @Override
        public void start(int totalTasks) {
            delegate.start(totalTasks);
        }

        @Override
        public void beginTask(String title, int totalWork) {
            if (maxObjects > 0 && totalWork > maxObjects && title.equals(JGitText.get().receivingObjects)) {
                objectsOffered = totalWork;
            }
            delegate.beginTask(title, totalWork);
        }

        @Override
        public void update(int completed) {
            delegate.update(completed);
        }

        @Override
        public void endTask() {
            delegate.endTask();
        }

        @Override
        public boolean isCancelled() {
            return objectsOffered > 0 || delegate.isCancelled() || overTime() || overDisk();
        }

        @Override
        public void showDuration(boolean enabled) {
            delegate.showDuration(enabled);
        }
    }

    /** Turns what JGit threw into a sentence for the user. */
    static RepoException translate(Throwable error, GuardedUrl url) {
        String shown = url.redacted();
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof RepoException re) {
                return re;
            }
            if (String.valueOf(t.getMessage()).contains("No space left on device")) {
                return RepoLimits.diskFull();
            }
            if (t instanceof GuardedConnectionFactory.RefusedConnection refused) {
                return refused.refusal;
            }
            if (t instanceof NoRemoteRepositoryException) {
                return new RepoException(404, "No git repository was found at " + shown + ". Check the URL.");
            }
            if (t instanceof UnknownHostException) {
                return new RepoException(
                        400, "The host " + Urls.printable(url.host()) + " could not be found. Check the URL.");
            }
            if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
                return new RepoException(
                        502,
                        "Could not connect to " + Urls.printable(url.host())
                                + ": the connection was refused. Check the URL, or try again later.");
            }
            if (t instanceof SocketTimeoutException) {
                return new RepoException(504, Urls.printable(url.host()) + " did not answer in time. Try again later.");
            }
        }
        String message = withoutAddresses(error.getMessage());
        if (message.contains("not authorized")
                || message.contains("authentication is required")
                || STATUS_401.matcher(message).find()
                || message.contains("403 forbidden")) {
            return new RepoException(
                    403,
                    "The repository at " + shown
                            + " asks for a login; Ferry can only launch repositories that can be read without one.");
        }
        if (message.contains("redirect")) {
            return new RepoException(
                    400,
                    "The repository URL " + shown + " redirects to another address; use the repository's final URL.");
        }
        if (message.contains("not found") || STATUS_404.matcher(message).find()) {
            return new RepoException(404, "No git repository was found at " + shown + ". Check the URL.");
        }
        return new RepoException(
                502, "Could not read the git repository at " + shown + ": " + Urls.redact(error.getMessage()) + ".");
    }

    private static final Pattern ADDRESS = Pattern.compile("\\S+://\\S*|\\S+:\\d+\\S*");
    private static final Pattern STATUS_401 = Pattern.compile("\\b401\\b");
    private static final Pattern STATUS_404 = Pattern.compile("\\b404\\b");

    /**
     * JGit's message in lower case, with every URL and host:port taken out: JGit starts its messages with the
     * repository's URL, whose port or path may hold "401" or "404" (port 40159 once read as "asks for a login").
     */
    static String withoutAddresses(String message) {
        return message == null
                ? ""
                : ADDRESS.matcher(message.toLowerCase(Locale.ROOT)).replaceAll("<address>");
    }

    private static final class FetchFailed extends RuntimeException {
        final RepoException cause;

        FetchFailed(RepoException cause) {
            super(cause.getMessage(), null, false, false);
            this.cause = cause;
        }
    }

    /** For tests and diagnostics: the refs as a list of names. */
    static Collection<String> names(Map<String, Ref> refs) {
        return refs.keySet();
    }
}
