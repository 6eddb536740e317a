package dev.ferry.repo;

import static dev.ferry.repo.ArchiveSupport.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;

/**
 * BinderHub's {@code zenodo} provider: the spec is a DOI ({@code 10.5281/zenodo.3242074}) or a record's URL on a
 * Zenodo installation. A DOI is followed through the DOI resolver to the record it names (a concept DOI leads to the
 * latest version), and the record id is the pinned version, as in BinderHub: the resolved spec names that version's
 * DOI. The record and its files come from Zenodo's REST API ({@code /api/records/<id>},
 * {@code /api/records/<id>/files}); a software record with a single archive file is unpacked into the root, as
 * repo2docker does.
 */
public final class ZenodoRepoProvider implements ArchiveProvider {

    private static final Pattern RECORD_PATH = Pattern.compile("^/records?/([0-9]{1,20})/?$");

    private final ArchiveSupport doi;
    private final List<String> hosts;
    private final ProviderDisplay display;

    /**
     * @param doiResolver where DOIs are resolved ({@code https://doi.org})
     * @param hosts       the Zenodo installations whose records may launch ({@code https://zenodo.org})
     */
    public ZenodoRepoProvider(String doiResolver, List<String> hosts) {
        this.doi = new ArchiveSupport(doiResolver);
        this.hosts = hosts.stream().map(RepoHosts::base).toList();
        this.display = ProviderDisplay.doi(
                "zenodo",
                "Zenodo",
                "10.5281/zenodo.3242074",
                ArchiveSupport.detectRegex("10\\.[0-9]{4,9}/zenodo\\.[0-9]+", this.hosts, "/records?/[0-9]+"));
    }

    @Override
    public ProviderDisplay display() {
        return display;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        return doi.parse(
                id(),
                rawSpec,
                url -> recordOf(url).isPresent(),
                "is not a Zenodo DOI or record URL. Use the "
                        + "record's DOI, for example 10.5281/zenodo.3242074, or its address on "
                        + String.join(" or ", hosts) + ".");
    }

    /** The installation and record id of a record URL on one of the known hosts. */
    private Optional<String[]> recordOf(String url) {
        return ArchiveSupport.onHost(hosts, url, RECORD_PATH)
                .map(r -> new String[] {r.host(), r.path().group(1)});
    }

    @Override
    public ArchiveRecord resolve(RepoSpec spec, ArchiveFetcher.Fetch fetch) {
        String[] record = doi.locate(spec, fetch, this::recordOf, "a Zenodo record");
        String host = record[0];
        String id = record[1];
        ArchiveFetcher.JsonAnswer answer = fetch.json(host + "/api/records/" + id);
        requireOk(answer, id);
        JsonNode metadata = answer.body().path("metadata");
        String access = text(metadata.path("access_right"))
                .orElse(text(answer.body().path("access").path("files")).orElse("open"));
        if (!access.equals("open") && !access.equals("public")) {
            throw notOpen(id, access, text(metadata.path("embargo_date")).orElse(""));
        }
        ArchiveFetcher.JsonAnswer filesAnswer = fetch.json(host + "/api/records/" + id + "/files");
        requireOk(filesAnswer, id);
        List<ArchiveRecord.ArchiveFile> files = new ArrayList<>();
        for (JsonNode entry : filesAnswer.body().path("entries")) {
            files.add(ArchiveSupport.listedFile(
                    "Zenodo",
                    "record " + id,
                    text(entry.path("key")).orElse(""),
                    text(entry.path("links").path("content")).orElse(""),
                    entry.path("size").asLong(-1),
                    text(entry.path("checksum")).orElse("")));
        }
        if (files.isEmpty()) {
            throw new RepoException(404, "Zenodo record " + id + " has no files to launch.");
        }
        String type = text(metadata.path("upload_type"))
                .or(() -> text(metadata.path("resource_type").path("type")))
                .orElse("");
        String resolvedSpec = text(answer.body().path("doi"))
                .orElseGet(
                        () -> ArchiveSupport.sameDoiPrefix(spec, "zenodo", id).orElse(host + "/records/" + id));
        List<String> authors = new ArrayList<>();
        for (JsonNode creator : metadata.path("creators")) {
            text(creator.path("name"))
                    .or(() -> text(creator.path("person_or_org").path("name")))
                    .ifPresent(authors::add);
        }
        return new ArchiveRecord(
                id,
                resolvedSpec,
                doi.link(resolvedSpec),
                host + "/records/" + id,
                text(metadata.path("title")).orElse(""),
                authors,
                files,
                type.equalsIgnoreCase("software") && files.size() == 1,
                ArchiveRecord.contentKey(id(), id, files));
    }

    private static void requireOk(ArchiveFetcher.JsonAnswer answer, String id) {
        if (answer.ok()) {
            return;
        }
        switch (answer.status()) {
            case 404 ->
                throw new RepoException(404, "Zenodo has no record " + id + ". Check the DOI or the record's address.");
            case 410 ->
                throw new RepoException(
                        410,
                        "Zenodo record " + id + " has been deleted"
                                + text(answer.body().path("message"))
                                        .map(m -> " (" + Urls.printable(m) + ")")
                                        .orElse("")
                                + ". Launch another version of it, if there is one.");
            case 401, 403 -> throw notOpen(id, "restricted", "");
            case 429 -> throw ArchiveSupport.rateLimited("Zenodo", answer);
            default ->
                throw new RepoException(
                        502, "Zenodo answered HTTP " + answer.status() + " for record " + id + ". Launch again later.");
        }
    }

    private static RepoException notOpen(String id, String access, String embargoDate) {
        if (access.equals("embargoed")) {
            return ArchiveSupport.embargoed("Zenodo record " + id, embargoDate, "a record");
        }
        return new RepoException(
                403,
                "The files of Zenodo record " + id + " are not open (" + Urls.printable(access)
                        + "); Ferry can launch only records whose files anyone may download.");
    }
}
