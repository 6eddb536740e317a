package dev.ferry.repo;

import java.util.Comparator;
import java.util.List;

import tools.jackson.databind.json.JsonMapper;

import dev.ferry.Hashes;

/**
 * One version of a record in a research archive (Zenodo, …), as its API describes it: what a launch link resolved to.
 *
 * @param version      the archive's own id of this version (a Zenodo record id); immutable content
 * @param resolvedSpec the spec naming exactly this version (BinderHub's resolved spec)
 * @param refUrl       the page of this version ({@code binder_ref_url})
 * @param recordUrl    the record's landing page: the "repository URL" of builds and quotas
 * @param title        the record's title, or empty
 * @param authors      the record's creators, in the archive's order
 * @param files        the files to fetch
 * @param unpackSingle whether a single archive file is unpacked into the root (repo2docker: a Zenodo software record
 *                     with one file)
 * @param contentKey   40 hex characters naming the content: a digest of the files' checksums where the archive gives
 *                     them all, else of the version id; it stands where a git commit id stands
 */
public record ArchiveRecord(
        String version,
        String resolvedSpec,
        String refUrl,
        String recordUrl,
        String title,
        List<String> authors,
        List<ArchiveFile> files,
        boolean unpackSingle,
        String contentKey) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public ArchiveRecord {
        authors = List.copyOf(authors);
        files = List.copyOf(files);
    }

    /**
     * One file of a record.
     *
     * @param name     its path in the record (checked before anything is written)
     * @param url      where it is downloaded from (through the guard, like every URL)
     * @param size     its size as the archive states it, or -1
     * @param checksum {@code <algorithm>:<hex>} as the archive states it ({@code md5:…}), or empty
     */
    public record ArchiveFile(String name, String url, long size, String checksum) {}

    /** The content key of files with these checksums, or of the version id when a checksum is missing. */
    static String contentKey(String provider, String version, List<ArchiveFile> files) {
        boolean allSummed =
                !files.isEmpty() && files.stream().allMatch(f -> !f.checksum().isEmpty());
        StringBuilder text = new StringBuilder(provider).append('\n');
        if (allSummed) {
            files.stream()
                    .sorted(Comparator.comparing(ArchiveFile::name))
                    .forEach(f -> text.append(f.name())
                            .append('\0')
                            .append(f.checksum())
                            .append('\n'));
        } else {
            text.append("version\0").append(version);
        }
        return Hashes.sha256(text.toString()).substring(0, 40);
    }

    /**
     * What a build needs to fetch this version elsewhere (the kubernetes build Job's prepare step): the files and
     * whether a single archive is unpacked, as JSON. Holds no credentials: records are public.
     */
    public String fetchJson() {
        return JSON.writeValueAsString(new FetchPlan(unpackSingle, files));
    }

    /** The version that {@link #fetchJson()} describes, for fetching only (no title, authors or links). */
    public static ArchiveRecord fromFetchJson(String text, String contentKey) {
        FetchPlan plan = JSON.readValue(text, FetchPlan.class);
        return new ArchiveRecord(contentKey, "", "", "", "", List.of(), plan.files(), plan.unpackSingle(), contentKey);
    }

    /** The JSON of {@link #fetchJson()}: written by the portal, read by the prepare step of the same Ferry. */
    private record FetchPlan(boolean unpackSingle, List<ArchiveFile> files) {
        FetchPlan {
            files = files == null ? List.of() : files;
        }
    }

    /** "Title" by A, B and C — how pages and snippets name the record. */
    public String citation() {
        if (title.isEmpty()) {
            return "";
        }
        if (authors.isEmpty()) {
            return title;
        }
        String names =
                authors.size() <= 3 ? String.join(", ", authors) : String.join(", ", authors.subList(0, 3)) + " et al.";
        return title + " — " + names;
    }
}
