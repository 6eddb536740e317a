package dev.ferry.repo;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;

/**
 * Resolves the ref of a spec to a commit with {@code git ls-remote} semantics (no host API, no quota): {@code HEAD}
 * is the default branch, a branch or tag name is looked up as {@code refs/heads/…} then {@code refs/tags/…} (annotated
 * tags peeled to their commit), a full ref name is taken as is, and a full 40-hex commit id is taken without asking.
 */
public final class RefResolver {

    /** A name resolved recently: its commit and the full ref name, until {@code expires} (nanoTime). */
    private record Cached(String commit, String fetchRef, long expires) {}

    /** A record resolved recently, until {@code expires} (nanoTime). */
    private record CachedRecord(ArchiveRecord record, long expires) {}

    private final RemoteGit git;
    private final ArchiveFetcher archives;
    private final Map<String, CachedRecord> records = new ConcurrentHashMap<>();
    private final RepoProviders providers;
    private final long ttlNanos;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    public RefResolver(RemoteGit git, RepoProviders providers) {
        this(git, providers, Duration.ZERO);
    }

    /** Branch and tag names are cached for {@code ttl}; a commit id needs no lookup at all. */
    public RefResolver(RemoteGit git, RepoProviders providers, Duration ttl) {
        this(git, null, providers, ttl);
    }

    /** Also resolves records of research archives, asking their APIs through {@code archives}. */
    public RefResolver(RemoteGit git, ArchiveFetcher archives, RepoProviders providers, Duration ttl) {
        this.git = git;
        this.archives = archives;
        this.providers = providers;
        this.ttlNanos = ttl.toNanos();
    }

    public ResolvedRepo resolve(RepoSpec spec) {
        RepoProvider provider = providers.get(spec.provider());
        if (provider instanceof ArchiveProvider archive) {
            return resolveRecord(spec, archive);
        }
        GuardedUrl url = git.guard().check(spec.repoUrl());
        String ref = spec.ref();
        if (GitRefs.isFullCommit(ref)) {
            return new ResolvedRepo(spec, ref, provider.resolvedSpec(spec, ref), null, provider.refUrl(spec, ref));
        }
        String cacheKey = spec.repoUrl() + "\n" + ref;
        Cached cached = cache.get(cacheKey);
        if (cached != null && cached.expires() - System.nanoTime() > 0) {
            return new ResolvedRepo(
                    spec,
                    cached.commit(),
                    provider.resolvedSpec(spec, cached.commit()),
                    cached.fetchRef(),
                    provider.refUrl(spec, cached.commit()));
        }
        ResolvedRepo resolved = lookUp(spec, url, provider, ref);
        if (ttlNanos > 0) {
            if (cache.size() > 10_000) {
                cache.clear();
            }
            cache.put(cacheKey, new Cached(resolved.commit(), resolved.fetchRef(), System.nanoTime() + ttlNanos));
        }
        return resolved;
    }

    /** Asks the archive's API which version the spec names; cached like a branch name (versions are immutable). */
    private ResolvedRepo resolveRecord(RepoSpec spec, ArchiveProvider provider) {
        if (archives == null) {
            throw new RepoException(501, "This Ferry is not set up to fetch research archives.");
        }
        String cacheKey = spec.provider() + "\n" + spec.spec();
        CachedRecord cached = records.get(cacheKey);
        if (cached != null && cached.expires() - System.nanoTime() > 0) {
            return ResolvedRepo.of(spec, cached.record());
        }
        ArchiveRecord record = provider.resolve(spec, archives.begin());
        if (ttlNanos > 0) {
            if (records.size() > 10_000) {
                records.clear();
            }
            records.put(cacheKey, new CachedRecord(record, System.nanoTime() + ttlNanos));
        }
        return ResolvedRepo.of(spec, record);
    }

    private ResolvedRepo lookUp(RepoSpec spec, GuardedUrl url, RepoProvider provider, String ref) {
        Map<String, Ref> refs = git.listRefs(url);
        List<String> candidates = ref.equals("HEAD") || ref.startsWith("refs/")
                ? List.of(ref)
                : List.of("refs/heads/" + ref, "refs/tags/" + ref);
        for (String name : candidates) {
            Ref found = refs.get(name);
            if (found != null) {
                ObjectId commit = found.getPeeledObjectId() != null ? found.getPeeledObjectId() : found.getObjectId();
                if (commit == null) {
                    continue;
                }
                String fetchRef = found.isSymbolic() ? found.getTarget().getName() : found.getName();
                return new ResolvedRepo(
                        spec,
                        commit.name(),
                        provider.resolvedSpec(spec, commit.name()),
                        fetchRef,
                        provider.refUrl(spec, commit.name()));
            }
        }
        if (ref.equals("HEAD")) {
            throw new RepoException(
                    404, "The repository " + url.redacted() + " has no default branch (it may be empty).");
        }
        String sibling = GitRefs.masterMainSibling(ref);
        if (sibling != null && provider.id().equals("gh")) {
            // BinderHub's fallback: a link to master made before the default branch became main (or back) still
            // launches
            Ref found = refs.get("refs/heads/" + sibling);
            if (found != null && found.getObjectId() != null) {
                String commit = found.getObjectId().name();
                return new ResolvedRepo(
                        spec,
                        commit,
                        provider.resolvedSpec(spec, commit),
                        found.getName(),
                        provider.refUrl(spec, commit));
            }
            throw new RepoException(
                    404,
                    "Could not find the branch '" + ref + "' in " + url.redacted() + ", nor the branch '" + sibling
                            + "' that often replaces it. Check the name, or use HEAD for the default branch.");
        }
        throw new RepoException(
                404,
                "Could not find the branch or tag '" + Urls.printable(ref) + "' in " + url.redacted()
                        + ". Check the name, or use HEAD for the default branch.");
    }
}
