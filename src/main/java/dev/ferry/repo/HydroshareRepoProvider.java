package dev.ferry.repo;

import static dev.ferry.repo.ArchiveSupport.text;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;

/**
 * BinderHub's {@code hydroshare} provider: the spec is a HydroShare resource id (32 hex digits) or anything holding one
 * (its URL {@code https://www.hydroshare.org/resource/<id>}, its DOI {@code 10.4211/hs.<id>}). The version is
 * {@code <id>.v<epoch of its modification>} from {@code /hsapi/resource/<id>/scimeta/elements}, as in BinderHub, so
 * each modification is built once; the resolved spec is the id (HydroShare keeps no history to pin). The resource's
 * files come as one BagIt zip from {@code /django_irods/download/bags/<id>}, whose payload ({@code data/contents})
 * becomes the root, as repo2docker does.
 */
public final class HydroshareRepoProvider implements ArchiveProvider {

    private static final Pattern RESOURCE_ID = Pattern.compile("([0-9a-f]{32})");

    private final List<String> hosts;
    private final ProviderDisplay display = new ProviderDisplay(
            "hydroshare",
            "Hydroshare resource",
            "Hydroshare resource id or URL",
            "example: 8f7c2f0341ef4180b0dc53ea1f82f52e",
            false,
            false,
            "",
            ".*[0-9a-f]{32}.*",
            "^(?:https?://www\\.hydroshare\\.org/resource/)?(?<repo>[0-9a-f]{32})/?$");

    /** @param hosts the HydroShare installations whose resources may launch ({@code https://www.hydroshare.org}) */
    public HydroshareRepoProvider(List<String> hosts) {
        this.hosts = hosts.stream().map(RepoHosts::base).toList();
    }

    @Override
    public ProviderDisplay display() {
        return display;
    }

    @Override
    public RepoSpec parse(String rawSpec) {
        String spec = GitRepoProvider.decodeOnce(rawSpec);
        Matcher id = RESOURCE_ID.matcher(spec);
        if (spec.length() > 300 || !id.find() || hosts.isEmpty()) {
            throw new RepoException(
                    400,
                    "\"" + Urls.printable(spec) + "\" names no HydroShare resource. Use the resource's "
                            + "id (32 hexadecimal digits) or its address.");
        }
        String host = hosts.get(0);
        if (spec.contains("://")) {
            host = ArchiveSupport.hostOf(hosts, spec)
                    .orElseThrow(() -> new RepoException(
                            400,
                            "\""
                                    + Urls.printable(spec) + "\" is not on a HydroShare this Ferry launches from ("
                                    + String.join(", ", hosts) + ")."));
        }
        return new RepoSpec(id(), rawSpec, host + "/resource/" + id.group(1), "");
    }

    @Override
    public ArchiveRecord resolve(RepoSpec spec, ArchiveFetcher.Fetch fetch) {
        String page = spec.repoUrl();
        String host = page.substring(0, page.indexOf("/resource/"));
        String id = page.substring(page.lastIndexOf('/') + 1);
        ArchiveFetcher.JsonAnswer answer = fetch.json(host + "/hsapi/resource/" + id + "/scimeta/elements");
        if (!answer.ok()) {
            switch (answer.status()) {
                case 404 ->
                    throw new RepoException(404, "HydroShare has no resource " + id + ". Check the id or the address.");
                case 401, 403 ->
                    throw new RepoException(
                            403,
                            "The HydroShare resource " + id + " is not public; Ferry can "
                                    + "launch only resources anyone may download.");
                case 429 ->
                    throw new RepoException(
                            429,
                            "HydroShare is limiting how often this Ferry may ask it (rate limit)"
                                    + "; launch again in a minute.");
                default ->
                    throw new RepoException(
                            502,
                            "HydroShare answered HTTP " + answer.status() + " for resource " + id
                                    + ". Launch again later.");
            }
        }
        String modified = "";
        for (JsonNode date : answer.body().path("dates")) {
            if ("modified".equals(date.path("type").asString(""))) {
                modified = date.path("start_date").asString("");
            }
        }
        long epoch;
        try {
            // HydroShare always answers in one time zone; like BinderHub, the date up to the second counts
            epoch = LocalDateTime.parse(modified.split("\\.")[0].replaceFirst("(Z|[+-][0-9]{2}:?[0-9]{2})$", ""))
                    .toEpochSecond(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new RepoException(
                    502,
                    "HydroShare described resource " + id + " without a modification date Ferry can "
                            + "read. Launch again later.");
        }
        String version = id + ".v" + epoch;
        List<String> authors = new ArrayList<>();
        for (JsonNode creator : answer.body().path("creators")) {
            text(creator.path("name")).ifPresent(authors::add);
        }
        List<ArchiveRecord.ArchiveFile> files =
                List.of(new ArchiveRecord.ArchiveFile(id + ".zip", host + "/django_irods/download/bags/" + id, -1, ""));
        return new ArchiveRecord(
                version,
                id,
                page,
                page,
                text(answer.body().path("title")).orElse(""),
                authors,
                files,
                true,
                ArchiveRecord.contentKey(id(), version, files));
    }
}
