package dev.ferry.repo;

import java.util.Optional;

/**
 * A repository spec whose ref was resolved to a commit.
 *
 * @param spec         what was asked for
 * @param commit       the full 40-hex commit id the ref pointed to
 * @param resolvedSpec the spec with the ref replaced by the commit (the reproducible link)
 * @param fetchRef     the full ref name that pointed to the commit ({@code refs/heads/main}), or null when a commit
 *                     id was given; lets a fetch fall back to the ref when the server refuses fetching by id
 * @param refUrl       a page showing the repository at the commit ({@code binder_ref_url}), or empty
 * @param archive      for a record of a research archive: the version resolved and its files (then {@code commit} is
 *                     the record's content key and the spec's URL its landing page); null for git repositories
 */
public record ResolvedRepo(
        RepoSpec spec, String commit, String resolvedSpec, String fetchRef, String refUrl, ArchiveRecord archive) {

    public ResolvedRepo(RepoSpec spec, String commit, String resolvedSpec, String fetchRef, String refUrl) {
        this(spec, commit, resolvedSpec, fetchRef, refUrl, null);
    }

    public ResolvedRepo(RepoSpec spec, String commit, String resolvedSpec, String fetchRef) {
        this(spec, commit, resolvedSpec, fetchRef, "", null);
    }

    /** A version of a record in a research archive: its content key stands for the commit. */
    static ResolvedRepo of(RepoSpec spec, ArchiveRecord record) {
        RepoSpec pinned = new RepoSpec(spec.provider(), spec.spec(), record.recordUrl(), spec.ref(), spec.shownSpec());
        return new ResolvedRepo(pinned, record.contentKey(), record.resolvedSpec(), null, record.refUrl(), record);
    }

    /** Whether this is a record of a research archive (fetched and unpacked) rather than a git repository. */
    public boolean isArchive() {
        return archive != null;
    }

    /**
     * When a {@code gh} link asked for {@code master} or {@code main} and only the other exists, BinderHub's fallback
     * launched the other: the sentence saying so, for the page and the events.
     */
    public Optional<String> fallbackNote() {
        if (fetchRef == null || archive != null) {
            return Optional.empty();
        }
        String asked = spec.ref();
        String sibling = GitRefs.masterMainSibling(asked);
        if (sibling == null || !fetchRef.equals("refs/heads/" + sibling)) {
            return Optional.empty();
        }
        return Optional.of("The branch '" + asked + "' does not exist in " + spec.displayUrl() + "; launching its '"
                + sibling
                + "' branch instead (many repositories renamed their default branch). Update the link to use '"
                + sibling + "' or HEAD.");
    }

    /** {@code v2/<provider>/<resolved spec>}: BinderHub's {@code binder_persistent_request}. */
    public String persistentRequest() {
        return "v2/" + spec.provider() + "/" + resolvedSpec;
    }

    public String repoUrl() {
        return spec.repoUrl();
    }

    @Override
    public String toString() {
        return spec.provider() + ":" + spec.displayUrl() + "@" + commit;
    }
}
