package dev.ferry.repo;

import static dev.ferry.repo.ArchiveSupport.text;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;

/**
 * BinderHub's {@code ckan} provider: the spec is a dataset's URL on any CKAN site, URL-encoded
 * ({@code https%3A%2F%2Fdemo.ckan.org%2Fdataset%2Fsample-dataset-1}), optionally naming one revision
 * ({@code …/dataset/<id>/history/<activity id>} or {@code ?activity_id=<id>}). The site's action API
 * ({@code <site>/api/3/action/}) gives the dataset ({@code package_show}) or that revision ({@code activity_show});
 * the version is {@code <dataset>.v<epoch of its modification>}, as in BinderHub and repo2docker, so each modification
 * is built once. The resolved spec is the link as given (BinderHub's): a link without a revision launches the latest
 * one. Each resource is downloaded (through the guard, wherever it is) under the last part of its URL.
 */
public final class CkanRepoProvider implements ArchiveProvider {

    private static final Pattern DATASET_PATH =
            Pattern.compile("^(.*)/dataset/([^/]{1,200})(?:/history/([0-9a-fA-F-]{1,64}))?/?$");
    private static final Pattern ACTIVITY_QUERY = Pattern.compile("(?:^|&)activity_id=([0-9a-fA-F-]{1,64})(?:&|$)");

    private final ProviderDisplay display = new ProviderDisplay(
            "ckan",
            "CKAN dataset",
            "CKAN dataset URL (https://demo.ckan.org/dataset/sample-dataset-1)",
            "example: https://demo.ckan.org/dataset/sample-dataset-1",
            true,
            false,
            "",
            "https?%3A%2F%2F.+",
            null);

    @Override
    public ProviderDisplay display() {
        return display;
    }

    /** A dataset link: the site's base, the dataset id, and the revision (activity id) or null. */
    private record Dataset(String site, String id, String activity) {}

    private static Optional<Dataset> datasetOf(String url) {
        URI uri = ArchiveSupport.uri(url).orElse(null);
        if (uri == null
                || uri.getScheme() == null
                || !uri.getScheme().matches("(?i)https?")
                || uri.getRawAuthority() == null
                || uri.getRawPath() == null) {
            return Optional.empty();
        }
        Matcher path = DATASET_PATH.matcher(uri.getRawPath());
        if (!path.matches()) {
            return Optional.empty();
        }
        String activity = path.group(3);
        if (activity == null && uri.getRawQuery() != null) {
            Matcher query = ACTIVITY_QUERY.matcher(uri.getRawQuery());
            activity = query.find() ? query.group(1) : null;
        }
        return Optional.of(new Dataset(
                uri.getScheme() + "://" + uri.getRawAuthority() + path.group(1),
                URLDecoder.decode(path.group(2), StandardCharsets.UTF_8),
                activity));
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        String spec = GitRepoProvider.decodeOnce(rawSpec);
        if (datasetOf(spec).isEmpty()) {
            throw new RepoException(
                    400,
                    "\"" + Urls.printable(spec) + "\" is not the URL of a CKAN dataset. Use the "
                            + "dataset's page, for example https://demo.ckan.org/dataset/sample-dataset-1, URL-encoded in the link.");
        }
        return new RepoSpec(id(), rawSpec, spec, "");
    }

    @Override
    public ArchiveRecord resolve(RepoSpec spec, ArchiveFetcher.Fetch fetch) {
        Dataset dataset = datasetOf(spec.repoUrl()).orElseThrow();
        String api = dataset.site() + "/api/3/action/";
        JsonNode pkg;
        String modified;
        if (dataset.activity() != null) {
            ArchiveFetcher.JsonAnswer answer = fetch.json(api + "activity_show?id="
                    + URLEncoder.encode(dataset.activity(), StandardCharsets.UTF_8) + "&object_type=package");
            requireOk(answer, dataset);
            pkg = answer.body().path("result").path("data").path("package");
            modified = text(answer.body().path("result").path("timestamp")).orElse("");
        } else {
            ArchiveFetcher.JsonAnswer answer =
                    fetch.json(api + "package_show?id=" + URLEncoder.encode(dataset.id(), StandardCharsets.UTF_8));
            requireOk(answer, dataset);
            pkg = answer.body().path("result");
            modified = text(pkg.path("metadata_modified")).orElse("");
        }
        String version = dataset.id() + ".v" + epoch(modified, dataset);
        List<ArchiveRecord.ArchiveFile> files = new ArrayList<>();
        for (JsonNode resource : pkg.path("resources")) {
            String url = text(resource.path("url")).orElse("");
            if (url.isEmpty()) {
                continue; // a resource without a file (a description, an API endpoint)
            }
            String name = url.replaceFirst("[?#].*$", "");
            name = name.substring(name.lastIndexOf('/') + 1);
            if (name.isEmpty()) {
                name = text(resource.path("id")).orElse("resource-" + files.size());
            }
            files.add(new ArchiveRecord.ArchiveFile(
                    URLDecoder.decode(name.replace("+", "%2B"), StandardCharsets.UTF_8),
                    url,
                    resource.path("size").asLong(-1),
                    ""));
        }
        if (files.isEmpty()) {
            throw new RepoException(
                    404, "The CKAN dataset " + Urls.printable(dataset.id()) + " has no files to launch.");
        }
        List<String> authors = text(pkg.path("author")).map(List::of).orElse(List.of());
        return new ArchiveRecord(
                version,
                spec.spec(),
                spec.repoUrl(),
                dataset.site() + "/dataset/" + URLEncoder.encode(dataset.id(), StandardCharsets.UTF_8),
                text(pkg.path("title")).orElse(""),
                authors,
                files,
                false,
                ArchiveRecord.contentKey(id(), version, files));
    }

    /** Seconds since 1970 of CKAN's UTC timestamps ({@code 2023-05-04T10:11:12.123456}). */
    private static long epoch(String timestamp, Dataset dataset) {
        try {
            return LocalDateTime.parse(timestamp.replaceFirst("Z$", "")).toEpochSecond(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(timestamp).getEpochSecond();
            } catch (DateTimeParseException again) {
                throw new RepoException(
                        502,
                        "The CKAN site described the dataset " + Urls.printable(dataset.id())
                                + " without a modification date Ferry can read. Launch again later.");
            }
        }
    }

    private static void requireOk(ArchiveFetcher.JsonAnswer answer, Dataset dataset) {
        if (answer.ok() && answer.body().path("success").asBoolean(false)) {
            return;
        }
        String type = answer.body().path("error").path("__type").asString("");
        String shown = Urls.printable(dataset.id());
        if (answer.status() == 404 || type.equals("Not Found Error")) {
            throw new RepoException(
                    404,
                    "The CKAN site at " + ArchiveFetcher.host(dataset.site()) + " has no dataset "
                            + shown
                            + (dataset.activity() == null ? "" : " revision " + Urls.printable(dataset.activity()))
                            + ". Check the link.");
        }
        if (answer.status() == 403 || type.equals("Authorization Error")) {
            throw new RepoException(
                    403,
                    "The CKAN dataset " + shown + " is not public; Ferry can launch only datasets "
                            + "anyone may download.");
        }
        if (answer.status() == 429) {
            throw ArchiveSupport.rateLimited("The CKAN site", answer);
        }
        throw new RepoException(
                502,
                "The CKAN site at " + ArchiveFetcher.host(dataset.site()) + " did not answer with the "
                        + "dataset " + shown + " (HTTP " + answer.status()
                        + "). Check that the link is a CKAN dataset, or launch "
                        + "again later.");
    }
}
