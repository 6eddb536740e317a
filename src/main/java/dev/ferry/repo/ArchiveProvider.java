package dev.ferry.repo;

/**
 * A provider whose repositories are records in a research archive (Zenodo, …) rather than git repositories: its
 * specs carry no ref; the archive's API resolves them to one immutable version, whose files are downloaded and
 * unpacked instead of cloned.
 */
public interface ArchiveProvider extends RepoProvider {

    /** Asks the archive which version the spec names and which files it holds. */
    ArchiveRecord resolve(RepoSpec spec, ArchiveFetcher.Fetch fetch);

    @Override
    default String resolvedSpec(RepoSpec spec, String commit) {
        throw new UnsupportedOperationException("an archive's resolved spec comes from its record");
    }
}
