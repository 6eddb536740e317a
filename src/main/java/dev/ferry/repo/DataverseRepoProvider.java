package dev.ferry.repo;

import static dev.ferry.repo.ArchiveSupport.text;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;

/**
 * BinderHub's {@code dataverse} provider: the spec is a dataset's DOI ({@code 10.7910/DVN/TJCLKP}) or its page on a
 * known Dataverse installation ({@code https://<host>/dataset.xhtml?persistentId=doi:…[&version=4.0]}). A DOI is
 * followed through the DOI resolver to its installation, which must be one of the known ones (the list repo2docker
 * ships, overridable); the dataset is asked from {@code /api/datasets/:persistentId} (its latest version) or
 * {@code /api/datasets/:persistentId/versions/<major.minor>}, and the version is {@code <dataset id>.v<major>.<minor>}
 * as in BinderHub. Unlike BinderHub, whose resolved spec is the bare DOI (which launches the latest version again), the
 * resolved spec names the version ({@code …&version=<major.minor>}), so the persistent link is reproducible. Files come
 * from {@code /api/access/datafile/<id>} (tabular files in their original format, as repo2docker fetches them), each at
 * its {@code directoryLabel}; restricted files cannot be fetched by anyone and are left out.
 */
public final class DataverseRepoProvider implements ArchiveProvider {

    private static final Pattern DATASET_PATH = Pattern.compile("^/(?:dataset\\.xhtml|citation)$");

    private final ArchiveSupport doi;
    private final List<String> installations;
    private final ProviderDisplay display;

    /**
     * @param doiResolver   where DOIs are resolved
     * @param installations the Dataverse installations whose datasets may launch (their URLs; the host counts)
     */
    public DataverseRepoProvider(String doiResolver, List<String> installations) {
        this.doi = new ArchiveSupport(doiResolver);
        this.installations = installations.stream()
                .map(i -> ArchiveSupport.origin(i.trim()))
                .flatMap(Optional::stream)
                .distinct()
                .toList();
        this.display = ProviderDisplay.doi(
                "dataverse",
                "Dataverse",
                "10.7910/DVN/TJCLKP",
                "^(?:https?://(?:dx\\.)?doi\\.org/|doi:)?(?<repo>10\\.[0-9]{4,9}/[^\\s?#]+)$");
    }

    /** The installations repo2docker's list names, as shipped with Ferry. */
    public static List<String> shippedInstallations() {
        try (InputStream in = DataverseRepoProvider.class.getResourceAsStream("dataverse-installations.txt")) {
            if (in == null) {
                throw new IllegalStateException("dataverse-installations.txt is missing from Ferry's jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .map(String::trim)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException("dataverse-installations.txt cannot be read", e);
        }
    }

    /** The known installation serving this URL: the same host (and port), whatever the scheme (as repo2docker). */
    private Optional<String> installationOf(String url) {
        return ArchiveSupport.origin(url.trim())
                .flatMap(o -> installations.stream()
                        .filter(i -> i.substring(i.indexOf("://")).equals(o.substring(o.indexOf("://"))))
                        .findFirst()
                        .map(i -> o.startsWith("https://") ? o : i)); // keep https when the URL uses it
    }

    @Override
    public ProviderDisplay display() {
        return display;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        String spec = GitRepoProvider.decodeOnce(rawSpec);
        return (spec.contains("?") ? Optional.<RepoSpec>empty() : doi.doiSpec(id(), rawSpec, spec))
                .or(() -> installationOf(spec)
                        .flatMap(i -> dataset(spec))
                        .map(d -> new RepoSpec(id(), rawSpec, spec, "")))
                .orElseThrow(() -> new RepoException(
                        400,
                        "\"" + Urls.printable(spec) + "\" is not a Dataverse DOI or the "
                                + "address of a dataset on a known Dataverse installation. Use the dataset's DOI, for example "
                                + "10.7910/DVN/TJCLKP."));
    }

    /** The persistent id and version (null: latest) a dataset page's query names. */
    private static Optional<String[]> dataset(String url) {
        URI uri = ArchiveSupport.uri(url).orElse(null);
        if (uri == null
                || uri.getPath() == null
                || !DATASET_PATH.matcher(uri.getPath()).matches()
                || uri.getRawQuery() == null) {
            return Optional.empty();
        }
        Map<String, String> query = new LinkedHashMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            String[] kv = pair.split("=", 2);
            query.put(
                    URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                    kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
        }
        String pid = query.get("persistentId");
        if (pid == null || !pid.matches("^(doi|hdl):[^\\s]{3,300}$")) {
            return Optional.empty();
        }
        String version = query.get("version");
        if (version != null && !version.matches("^[0-9]{1,6}\\.[0-9]{1,6}$")) {
            version = null; // DRAFT, :latest and the like name no published version
        }
        return Optional.of(new String[] {pid, version});
    }

    @Override
    public ArchiveRecord resolve(RepoSpec spec, ArchiveFetcher.Fetch fetch) {
        String page = spec.repoUrl();
        String[] dataset = installationOf(page).flatMap(i -> dataset(page)).orElse(null);
        String origin;
        if (dataset == null) {
            String shown = ArchiveSupport.shown(spec);
            ArchiveFetcher.Landing landing = doi.follow(fetch, page, shown);
            origin = installationOf(landing.url())
                    .orElseThrow(() -> ArchiveSupport.leadsElsewhere(
                            shown,
                            "a known Dataverse installation",
                            landing,
                            "If it is a Dataverse, ask the operator to add it to ferry.archives.dataverse-hosts."));
            String name = page.substring(doi.doiResolver().length() + 1);
            dataset = dataset(landing.url()).orElse(new String[] {"doi:" + name, null});
        } else {
            origin = installationOf(page).orElseThrow();
        }
        String pid = dataset[0];
        String encodedPid = URLEncoder.encode(pid, StandardCharsets.UTF_8);
        JsonNode data;
        JsonNode version;
        if (dataset[1] == null) {
            ArchiveFetcher.JsonAnswer answer =
                    fetch.json(origin + "/api/datasets/:persistentId?persistentId=" + encodedPid);
            requireOk(answer, pid);
            data = answer.body().path("data");
            version = data.path("latestVersion");
        } else {
            ArchiveFetcher.JsonAnswer answer = fetch.json(
                    origin + "/api/datasets/:persistentId/versions/" + dataset[1] + "?persistentId=" + encodedPid);
            requireOk(answer, pid);
            data = answer.body().path("data");
            version = data;
        }
        String state = text(version.path("versionState")).orElse("RELEASED");
        if (!state.equals("RELEASED")) {
            throw new RepoException(
                    state.equals("DEACCESSIONED") ? 410 : 403,
                    "The dataset " + Urls.printable(pid)
                            + " is " + Urls.printable(state.toLowerCase(Locale.ROOT))
                            + " in this version; Ferry launches only "
                            + "released versions.");
        }
        long datasetId = data.path("datasetId").asLong(data.path("id").asLong(-1));
        if (version.path("datasetId").canConvertToLong()) {
            datasetId = version.path("datasetId").asLong();
        }
        String major = text(version.path("versionNumber")).orElse("");
        String minor = text(version.path("versionMinorNumber")).orElse("0");
        if (datasetId < 0 || major.isEmpty()) {
            throw new RepoException(
                    502,
                    "The Dataverse at " + ArchiveFetcher.host(origin) + " described " + Urls.printable(pid)
                            + " without a dataset id or version number. Launch again later.");
        }
        List<ArchiveRecord.ArchiveFile> files = new ArrayList<>();
        for (JsonNode entry : version.path("files")) {
            if (entry.path("restricted").asBoolean(false)) {
                continue; // nobody may download it without an account; BinderHub's launch would fail on it
            }
            JsonNode file = entry.path("dataFile");
            String id = text(file.path("id")).orElse("");
            Optional<String> original = text(file.path("originalFileName"));
            String name = original.or(() -> text(file.path("filename")))
                    .or(() -> text(entry.path("label")))
                    .orElse("");
            if (id.isEmpty() || name.isEmpty()) {
                throw new RepoException(
                        502,
                        "The Dataverse at " + ArchiveFetcher.host(origin) + " described a file of "
                                + Urls.printable(pid) + " without an id or a name. Launch again later.");
            }
            String folder = text(entry.path("directoryLabel")).orElse("");
            String checksum = text(file.path("checksum").path("value"))
                    .map(v -> text(file.path("checksum").path("type"))
                                    .orElse("MD5")
                                    .toLowerCase(Locale.ROOT)
                                    .replace("-", "")
                            + ":" + v)
                    .or(() -> text(file.path("md5")).map(v -> "md5:" + v))
                    .orElse("");
            files.add(new ArchiveRecord.ArchiveFile(
                    folder.isEmpty() ? name : folder + "/" + name,
                    origin + "/api/access/datafile/" + id + (original.isPresent() ? "?format=original" : ""),
                    original.isPresent()
                            ? file.path("originalFileSize").asLong(-1)
                            : file.path("filesize").asLong(-1),
                    original.isPresent() ? "" : checksum)); // the checksum is of the stored (ingested) form
        }
        if (files.isEmpty()) {
            throw new RepoException(404, "The dataset " + Urls.printable(pid) + " has no files anyone may download.");
        }
        String versionName = datasetId + ".v" + major + "." + minor;
        String pinned = origin + "/dataset.xhtml?persistentId=" + encodedPid + "&version=" + major + "." + minor;
        List<String> authors = new ArrayList<>();
        String title = "";
        for (JsonNode field : version.path("metadataBlocks").path("citation").path("fields")) {
            String type = field.path("typeName").asString("");
            if (type.equals("title")) {
                title = text(field.path("value")).orElse("");
            } else if (type.equals("author")) {
                for (JsonNode author : field.path("value")) {
                    text(author.path("authorName").path("value")).ifPresent(authors::add);
                }
            }
        }
        return new ArchiveRecord(
                versionName,
                URLEncoder.encode(pinned, StandardCharsets.UTF_8),
                pinned,
                origin + "/dataset.xhtml?persistentId=" + encodedPid,
                title,
                authors,
                files,
                false,
                ArchiveRecord.contentKey(id(), versionName, files));
    }

    private static void requireOk(ArchiveFetcher.JsonAnswer answer, String pid) {
        if (answer.ok() && answer.body().path("status").asString("OK").equals("OK")) {
            return;
        }
        String message = text(answer.body().path("message"))
                .map(m -> " (" + Urls.printable(m) + ")")
                .orElse("");
        switch (answer.status()) {
            case 404 ->
                throw new RepoException(
                        404, "The Dataverse has no dataset " + Urls.printable(pid) + message + ". Check the DOI.");
            case 401, 403 ->
                throw new RepoException(
                        403,
                        "The dataset " + Urls.printable(pid) + " is not public" + message
                                + "; Ferry can launch only datasets anyone may download.");
            case 429 -> throw ArchiveSupport.rateLimited("The Dataverse", answer);
            default ->
                throw new RepoException(
                        502,
                        "The Dataverse answered HTTP " + answer.status() + " for " + Urls.printable(pid) + message
                                + ". Launch again later.");
        }
    }
}
