package dev.ferry.repo;

import static dev.ferry.repo.ArchiveSupport.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;

/**
 * BinderHub's {@code figshare} provider: the spec is a DOI ({@code 10.6084/m9.figshare.9782777.v1}) or an article's
 * URL on a Figshare installation. A DOI is followed through the DOI resolver to the article's page
 * ({@code …/articles/<type>/<title>/<id>/<version>}); a page without a version names the latest one, asked from
 * {@code <api>/articles/<id>/versions} as BinderHub does, so an unversioned DOI launches the latest version and the
 * resolved spec names it ({@code …figshare.<id>.v<version>}). The version's files come from
 * {@code <api>/articles/<id>/versions/<version>}; link-only files are skipped and a single zip or tar is unpacked into
 * the root, as repo2docker does.
 */
public final class FigshareRepoProvider implements ArchiveProvider {

    /** {@code …/articles/[<type>/][<title>/]<id>[/<version>]}. */
    private static final Pattern ARTICLE_PATH =
            Pattern.compile("^/articles/(?:[^/]+/){0,2}?([0-9]{1,20})(?:/([0-9]{1,6}))?/?$");

    /** A DOI that names its version: {@code …figshare.<id>.v<version>}. */
    private static final Pattern VERSIONED_DOI = Pattern.compile("figshare\\.([0-9]{1,20})\\.v([0-9]{1,6})$");

    private final ArchiveSupport doi;
    private final List<String> hosts;
    private final String api;
    private final ProviderDisplay display;

    /**
     * @param doiResolver where DOIs are resolved
     * @param hosts       the Figshare installations whose articles may launch ({@code https://figshare.com})
     * @param api         their REST API ({@code https://api.figshare.com/v2})
     */
    public FigshareRepoProvider(String doiResolver, List<String> hosts, String api) {
        this.doi = new ArchiveSupport(doiResolver);
        this.hosts = hosts.stream().map(RepoHosts::base).toList();
        this.api = RepoHosts.base(api);
        this.display = ProviderDisplay.doi(
                "figshare",
                "Figshare",
                "10.6084/m9.figshare.9782777.v1",
                ArchiveSupport.detectRegex(
                        "10\\.[0-9]{4,9}/[^/\\s]*figshare\\.[0-9]+(?:\\.v[0-9]+)?", this.hosts, "/articles/[^\\s]+"));
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
                url -> articleOf(url).isPresent(),
                "is not a Figshare DOI or article URL. Use "
                        + "the article's DOI, for example 10.6084/m9.figshare.9782777.v1, or its address on "
                        + String.join(" or ", hosts) + ".");
    }

    /** The article id and version (null when the page names none) of an article URL on a known host. */
    private Optional<String[]> articleOf(String url) {
        return ArchiveSupport.onHost(hosts, url, ARTICLE_PATH)
                .map(a -> new String[] {a.path().group(1), a.path().group(2)});
    }

    @Override
    public ArchiveRecord resolve(RepoSpec spec, ArchiveFetcher.Fetch fetch) {
        String[] article = doi.locate(spec, fetch, this::articleOf, "a Figshare article");
        String id = article[0];
        Matcher versionedDoi = VERSIONED_DOI.matcher(GitRepoProvider.decodeOnce(spec.spec()));
        String version = article[1] != null
                ? article[1]
                : versionedDoi.find() && versionedDoi.group(1).equals(id)
                        ? versionedDoi.group(2)
                        : latestVersion(id, fetch);
        ArchiveFetcher.JsonAnswer answer = fetch.json(api + "/articles/" + id + "/versions/" + version);
        requireOk(answer, id, version);
        JsonNode body = answer.body();
        if (body.path("is_embargoed").asBoolean(false)) {
            throw ArchiveSupport.embargoed(
                    "Figshare article " + id, text(body.path("embargo_date")).orElse(""), "an article");
        }
        List<ArchiveRecord.ArchiveFile> files = new ArrayList<>();
        for (JsonNode file : body.path("files")) {
            if (file.path("is_link_only").asBoolean(false)) {
                continue; // a link to elsewhere, not a file of the article (repo2docker skips them too)
            }
            String md5 = text(file.path("computed_md5"))
                    .or(() -> text(file.path("supplied_md5")))
                    .orElse("");
            files.add(ArchiveSupport.listedFile(
                    "Figshare",
                    "article " + id,
                    text(file.path("name")).orElse(""),
                    text(file.path("download_url")).orElse(""),
                    file.path("size").asLong(-1),
                    md5.isEmpty() ? "" : "md5:" + md5));
        }
        if (files.isEmpty()) {
            throw new RepoException(
                    404, "Figshare article " + id + " (version " + version + ") has no files to launch.");
        }
        String versioned = id + ".v" + version;
        String resolvedSpec = text(body.path("doi"))
                .filter(d -> d.endsWith(versioned))
                .orElseGet(() -> ArchiveSupport.sameDoiPrefix(spec, "figshare", versioned)
                        .orElseGet(() -> hosts.get(0) + "/articles/" + id + "/" + version));
        List<String> authors = new ArrayList<>();
        for (JsonNode author : body.path("authors")) {
            text(author.path("full_name")).ifPresent(authors::add);
        }
        String name = files.get(0).name().toLowerCase(Locale.ROOT);
        boolean singleArchive = files.size() == 1
                && (name.endsWith(".zip")
                        || name.endsWith(".tar.gz")
                        || name.endsWith(".tgz")
                        || name.endsWith(".tar"));
        String host = hosts.isEmpty() ? api : hosts.get(0);
        return new ArchiveRecord(
                versioned,
                resolvedSpec,
                doi.link(resolvedSpec),
                host + "/articles/" + id,
                text(body.path("title")).orElse(""),
                authors,
                files,
                singleArchive,
                ArchiveRecord.contentKey(id(), versioned, files));
    }

    /** The newest version of the article, as {@code /articles/<id>/versions} lists them. */
    private String latestVersion(String id, ArchiveFetcher.Fetch fetch) {
        ArchiveFetcher.JsonAnswer versions = fetch.json(api + "/articles/" + id + "/versions");
        requireOk(versions, id, null);
        long latest = -1;
        for (JsonNode v : versions.body()) {
            latest = Math.max(latest, v.path("version").asLong(-1));
        }
        if (latest < 1) {
            throw new RepoException(404, "Figshare article " + id + " has no published version.");
        }
        return Long.toString(latest);
    }

    private static void requireOk(ArchiveFetcher.JsonAnswer answer, String id, String version) {
        if (answer.ok()) {
            return;
        }
        String what = "Figshare article " + id + (version == null ? "" : " (version " + version + ")");
        switch (answer.status()) {
            case 404 ->
                throw new RepoException(
                        404,
                        "Figshare has no " + what.substring("Figshare ".length())
                                + ". Check the DOI or the article's address.");
            case 410 ->
                throw new RepoException(
                        410, what + " has been removed. Launch another version of it, if there is one.");
            case 401, 403 ->
                throw new RepoException(
                        403,
                        "The files of " + what + " are not public; Ferry can launch only "
                                + "articles whose files anyone may download.");
            case 429 -> throw ArchiveSupport.rateLimited("Figshare", answer);
            default ->
                throw new RepoException(
                        502, "Figshare answered HTTP " + answer.status() + " for " + what + ". Launch again later.");
        }
    }
}
