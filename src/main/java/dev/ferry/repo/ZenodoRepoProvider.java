package dev.ferry.repo;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
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

    /** A DOI as Crossref and DataCite write them: a 10.-prefix, a registrant, a suffix without spaces. */
    static final Pattern DOI = Pattern.compile("^(?:doi:|https?://(?:dx\\.)?doi\\.org/)?(10\\.[0-9]{4,9}/[^\\s]{1,300})$",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern RECORD_PATH = Pattern.compile("^/records?/([0-9]{1,20})/?$");

    private final String doiResolver;
    private final List<String> hosts;
    private final ProviderDisplay display;

    /**
     * @param doiResolver where DOIs are resolved ({@code https://doi.org})
     * @param hosts       the Zenodo installations whose records may launch ({@code https://zenodo.org})
     */
    public ZenodoRepoProvider(String doiResolver, List<String> hosts) {
        this.doiResolver = RepoHosts.base(doiResolver);
        this.hosts = hosts.stream().map(RepoHosts::base).toList();
        String hostAlternatives = String.join("|", this.hosts.stream().map(h -> RepoHosts.regexLiteral(h)).toList());
        this.display = new ProviderDisplay("zenodo", "Zenodo DOI", "Zenodo DOI (10.5281/zenodo.3242074)",
                "example: 10.5281/zenodo.3242074", false, false, "", "10\\.[0-9]{4,9}/.+",
                "^(?:https?://(?:dx\\.)?doi\\.org/)?(?<repo>10\\.[0-9]{4,9}/zenodo\\.[0-9]+"
                        + (hostAlternatives.isEmpty() ? "" : "|(?:" + hostAlternatives + ")/records?/[0-9]+") + ")/?$");
    }

    @Override
    public String id() {
        return "zenodo";
    }

    @Override
    public ProviderDisplay display() {
        return display;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        String spec = GitRepoProvider.decodeOnce(rawSpec);
        Matcher doi = DOI.matcher(spec);
        if (doi.matches()) {
            return new RepoSpec(id(), rawSpec, doiResolver + "/" + doi.group(1), "");
        }
        if (recordOf(spec).isPresent()) {
            return new RepoSpec(id(), rawSpec, spec, "");
        }
        throw new RepoException(400, "\"" + Urls.printable(spec) + "\" is not a Zenodo DOI or record URL. Use the record's "
                + "DOI, for example 10.5281/zenodo.3242074, or its address on " + String.join(" or ", hosts) + ".");
    }

    /** The installation and record id of a record URL on one of the known hosts. */
    private Optional<String[]> recordOf(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (uri.getScheme() == null || uri.getRawAuthority() == null || uri.getPath() == null) {
            return Optional.empty();
        }
        String base = (uri.getScheme() + "://" + uri.getRawAuthority()).toLowerCase(Locale.ROOT);
        Matcher path = RECORD_PATH.matcher(uri.getPath());
        if (!path.matches()) {
            return Optional.empty();
        }
        return hosts.stream().filter(h -> h.toLowerCase(Locale.ROOT).equals(base)).findFirst()
                .map(h -> new String[] {h, path.group(1)});
    }

    @Override
    public ArchiveRecord resolve(RepoSpec spec, ArchiveFetcher.Fetch fetch) {
        String[] record = recordOf(spec.repoUrl()).orElse(null);
        String shown = Urls.printable(GitRepoProvider.decodeOnce(spec.spec()));
        if (record == null) {
            ArchiveFetcher.Landing landing = fetch.landing(spec.repoUrl());
            if (landing.status() == 404 && landing.url().equals(spec.repoUrl())) {
                throw new RepoException(404, "The DOI " + shown + " is not registered (" + ArchiveFetcher.host(doiResolver)
                        + " does not know it). Check the DOI for typos.");
            }
            record = recordOf(landing.url()).orElseThrow(() -> new RepoException(404, "The DOI " + shown
                    + " does not lead to a Zenodo record (it leads to " + ArchiveFetcher.host(landing.url())
                    + "). If the record is on another archive, launch it with that archive's provider."));
        }
        String host = record[0];
        String id = record[1];
        ArchiveFetcher.JsonAnswer answer = fetch.json(host + "/api/records/" + id);
        requireOk(answer, id);
        JsonNode metadata = answer.body().path("metadata");
        String access = text(metadata.path("access_right")).orElse(text(answer.body().path("access").path("files")).orElse("open"));
        if (!access.equals("open") && !access.equals("public")) {
            throw notOpen(id, access, text(metadata.path("embargo_date")).orElse(""));
        }
        ArchiveFetcher.JsonAnswer filesAnswer = fetch.json(host + "/api/records/" + id + "/files");
        requireOk(filesAnswer, id);
        List<ArchiveRecord.ArchiveFile> files = new ArrayList<>();
        for (JsonNode entry : filesAnswer.body().path("entries")) {
            String name = text(entry.path("key")).orElse("");
            String url = text(entry.path("links").path("content")).orElse("");
            if (name.isEmpty() || url.isEmpty()) {
                throw new RepoException(502, "Zenodo described a file of record " + id + " without a name or a download "
                        + "link. Launch again later.");
            }
            files.add(new ArchiveRecord.ArchiveFile(name, url, entry.path("size").asLong(-1),
                    text(entry.path("checksum")).orElse("")));
        }
        if (files.isEmpty()) {
            throw new RepoException(404, "Zenodo record " + id + " has no files to launch.");
        }
        String type = text(metadata.path("upload_type")).or(() -> text(metadata.path("resource_type").path("type")))
                .orElse("");
        String resolvedSpec = text(answer.body().path("doi")).orElseGet(() -> {
            Matcher doi = DOI.matcher(GitRepoProvider.decodeOnce(spec.spec()));
            return doi.matches() && doi.group(1).contains("zenodo")
                    ? doi.group(1).split("zenodo")[0] + "zenodo." + id : host + "/records/" + id;
        });
        List<String> authors = new ArrayList<>();
        for (JsonNode creator : metadata.path("creators")) {
            text(creator.path("name")).or(() -> text(creator.path("person_or_org").path("name"))).ifPresent(authors::add);
        }
        return new ArchiveRecord(id, resolvedSpec, resolvedSpec.startsWith("10.") ? doiResolver + "/" + resolvedSpec
                : resolvedSpec, host + "/records/" + id, text(metadata.path("title")).orElse(""), authors, files,
                type.equalsIgnoreCase("software") && files.size() == 1, ArchiveRecord.contentKey(id(), id, files));
    }

    private static void requireOk(ArchiveFetcher.JsonAnswer answer, String id) {
        if (answer.ok()) {
            return;
        }
        switch (answer.status()) {
            case 404 -> throw new RepoException(404, "Zenodo has no record " + id + ". Check the DOI or the record's address.");
            case 410 -> throw new RepoException(410, "Zenodo record " + id + " has been deleted"
                    + text(answer.body().path("message")).map(m -> " (" + Urls.printable(m) + ")").orElse("")
                    + ". Launch another version of it, if there is one.");
            case 401, 403 -> throw notOpen(id, "restricted", "");
            case 429 -> throw new RepoException(429, "Zenodo is limiting how often this Ferry may ask it (rate limit)"
                    + answer.retryAfter().filter(s -> s.matches("[0-9]{1,6}")).map(s -> "; launch again in " + s + " seconds.")
                            .orElse("; launch again in a minute."));
            default -> throw new RepoException(502, "Zenodo answered HTTP " + answer.status() + " for record " + id
                    + ". Launch again later.");
        }
    }

    private static RepoException notOpen(String id, String access, String embargoDate) {
        if (access.equals("embargoed")) {
            return new RepoException(403, "The files of Zenodo record " + id + " are under embargo"
                    + (embargoDate.isEmpty() ? "" : " until " + Urls.printable(embargoDate)) + "; Ferry can launch a record "
                    + "only once its files are open.");
        }
        return new RepoException(403, "The files of Zenodo record " + id + " are not open (" + Urls.printable(access)
                + "); Ferry can launch only records whose files anyone may download.");
    }

    static Optional<String> text(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return Optional.empty();
        }
        String value = node.isString() ? node.asString() : node.isNumber() ? node.asString() : "";
        return value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }
}
