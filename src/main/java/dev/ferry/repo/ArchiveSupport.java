package dev.ferry.repo;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;

/**
 * What the research-archive providers share, so that each of them says only what is its archive's own: reading their
 * JSON, knowing their installations, and following a DOI through the resolver (one instance a provider, holding the
 * resolver it was configured with).
 */
final class ArchiveSupport {

    /** A DOI as Crossref and DataCite write them: a 10.-prefix, a registrant, a suffix without spaces. */
    static final Pattern DOI = Pattern.compile(
            "^(?:doi:|https?://(?:dx\\.)?doi\\.org/)?(10\\.[0-9]{4,9}/[^\\s]{1,300})$", Pattern.CASE_INSENSITIVE);

    private final String doiResolver;

    /** @param doiResolver where DOIs are resolved ({@code https://doi.org}) */
    ArchiveSupport(String doiResolver) {
        this.doiResolver = RepoHosts.base(doiResolver);
    }

    String doiResolver() {
        return doiResolver;
    }

    /**
     * The spec of a record named by its DOI or by its URL ({@code isRecordUrl}); anything else is refused with the
     * sentence {@code "<spec>" <notIt>}.
     */
    RepoSpec parse(String provider, String rawSpec, Predicate<String> isRecordUrl, String notIt) {
        String spec = GitRepoProvider.decodeOnce(rawSpec);
        return doiSpec(provider, rawSpec, spec)
                .or(() -> isRecordUrl.test(spec)
                        ? Optional.of(new RepoSpec(provider, rawSpec, spec, ""))
                        : Optional.empty())
                .orElseThrow(() -> new RepoException(400, "\"" + Urls.printable(spec) + "\" " + notIt));
    }

    /** The spec of a DOI: its link on the resolver; empty when the (decoded) spec is no DOI. */
    Optional<RepoSpec> doiSpec(String provider, String rawSpec, String spec) {
        Matcher doi = DOI.matcher(spec);
        return doi.matches()
                ? Optional.of(new RepoSpec(provider, rawSpec, doiResolver + "/" + doi.group(1), ""))
                : Optional.empty();
    }

    /** Follows a DOI's link to the page it leads to; a DOI the resolver does not know is the user's typo. */
    ArchiveFetcher.Landing follow(ArchiveFetcher.Fetch fetch, String doiLink, String shown) {
        ArchiveFetcher.Landing landing = fetch.landing(doiLink);
        if (landing.status() == 404 && landing.url().equals(doiLink)) {
            throw new RepoException(
                    404,
                    "The DOI " + shown + " is not registered (" + ArchiveFetcher.host(doiResolver)
                            + " does not know it). Check the DOI for typos.");
        }
        return landing;
    }

    /**
     * The record {@code recordOf} finds in the spec's URL, or else in the page the spec's DOI leads to; a DOI leading
     * anywhere else is refused, naming {@code what} this provider launches.
     */
    <T> T locate(RepoSpec spec, ArchiveFetcher.Fetch fetch, Function<String, Optional<T>> recordOf, String what) {
        return recordOf.apply(spec.repoUrl()).orElseGet(() -> {
            String shown = shown(spec);
            ArchiveFetcher.Landing landing = follow(fetch, spec.repoUrl(), shown);
            return recordOf.apply(landing.url())
                    .orElseThrow(() -> leadsElsewhere(
                            shown,
                            what,
                            landing,
                            "If the record is on another archive, launch it with that archive's provider."));
        });
    }

    /** The persistent link of a resolved spec: a DOI's link on the resolver, or the spec when it is a URL. */
    String link(String resolvedSpec) {
        return resolvedSpec.startsWith("10.") ? doiResolver + "/" + resolvedSpec : resolvedSpec;
    }

    /** The error for a DOI whose page is not where this provider's records are. */
    static RepoException leadsElsewhere(String shown, String what, ArchiveFetcher.Landing landing, String advice) {
        return new RepoException(
                404,
                "The DOI " + shown + " does not lead to " + what + " (it leads to " + ArchiveFetcher.host(landing.url())
                        + "). " + advice);
    }

    /**
     * The DOI of another version in the same DOI prefix as the spec's DOI ({@code 10.5281/zenodo.<suffix>}); empty when
     * the spec is no DOI of this archive.
     */
    static Optional<String> sameDoiPrefix(RepoSpec spec, String archive, String suffix) {
        Matcher doi = DOI.matcher(GitRepoProvider.decodeOnce(spec.spec()));
        return doi.matches() && doi.group(1).contains(archive)
                ? Optional.of(doi.group(1).split(archive)[0] + archive + "." + suffix)
                : Optional.empty();
    }

    /** The spec as the user typed it, printable in a sentence. */
    static String shown(RepoSpec spec) {
        return Urls.printable(GitRepoProvider.decodeOnce(spec.spec()));
    }

    /**
     * The regular expression recognising a pasted DOI ({@code doiRegex}) or a record's URL ({@code pathRegex}) on one
     * of the hosts, with the named group {@code repo}, for {@link ProviderDisplay#detectRegex()}.
     */
    static String detectRegex(String doiRegex, List<String> hosts, String pathRegex) {
        String hostAlternatives =
                String.join("|", hosts.stream().map(RepoHosts::regexLiteral).toList());
        return "^(?:https?://(?:dx\\.)?doi\\.org/)?(?<repo>" + doiRegex
                + (hostAlternatives.isEmpty() ? "" : "|(?:" + hostAlternatives + ")" + pathRegex) + ")/?$";
    }

    static Optional<URI> uri(String url) {
        try {
            return Optional.of(URI.create(url));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** {@code scheme://host[:port]} of a URL, lowercase; empty when it has none. */
    static Optional<String> origin(String url) {
        return uri(url).filter(u -> u.getScheme() != null && u.getRawAuthority() != null)
                .map(u -> (u.getScheme() + "://" + u.getRawAuthority()).toLowerCase(Locale.ROOT));
    }

    /** The host (as configured) of the installation at the URL's origin, if it is one of them. */
    static Optional<String> hostOf(List<String> hosts, String url) {
        return origin(url)
                .flatMap(o -> hosts.stream()
                        .filter(h -> h.toLowerCase(Locale.ROOT).equals(o))
                        .findFirst());
    }

    /** A URL on a known host: the host as configured, and the URL's path as matched. */
    record OnHost(String host, MatchResult path) {}

    /** The known host a URL is on, with its path matched against {@code path}; empty when either does not fit. */
    static Optional<OnHost> onHost(List<String> hosts, String url, Pattern path) {
        return hostOf(hosts, url).flatMap(h -> {
            Matcher matched = path.matcher(URI.create(url).getPath());
            return matched.matches() ? Optional.of(new OnHost(h, matched.toMatchResult())) : Optional.empty();
        });
    }

    /** The error for an archive's HTTP 429, with its Retry-After when it gives a plain number of seconds. */
    static RepoException rateLimited(String archive, ArchiveFetcher.JsonAnswer answer) {
        return new RepoException(
                429,
                archive + " is limiting how often this Ferry may ask it (rate limit)"
                        + answer.retryAfter()
                                .filter(s -> s.matches("[0-9]{1,6}"))
                                .map(s -> "; launch again in " + s + " seconds.")
                                .orElse("; launch again in a minute."));
    }

    /**
     * A file as the archive's API lists it; refused when the listing gives no name or no download link.
     *
     * @param archive the archive's name ("Zenodo")
     * @param item    what the file belongs to ("record 123")
     */
    static ArchiveRecord.ArchiveFile listedFile(
            String archive, String item, String name, String url, long size, String checksum) {
        if (name.isEmpty() || url.isEmpty()) {
            throw new RepoException(
                    502,
                    archive + " described a file of " + item + " without a name or a download link. Launch again "
                            + "later.");
        }
        return new ArchiveRecord.ArchiveFile(name, url, size, checksum);
    }

    /**
     * The error for a record whose files are under embargo.
     *
     * @param item  the record ("Zenodo record 123")
     * @param until the embargo's end as the archive gives it; empty when it gives none
     * @param kind  what the archive calls a record, with its article ("a record")
     */
    static RepoException embargoed(String item, String until, String kind) {
        return new RepoException(
                403,
                "The files of " + item + " are under embargo"
                        + (until.isEmpty() ? "" : " until " + Urls.printable(until))
                        + "; Ferry can launch " + kind + " only once its files are open.");
    }

    /** A JSON string or number as trimmed text; empty when missing, null or blank. */
    static Optional<String> text(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return Optional.empty();
        }
        String value = node.isString() ? node.asString() : node.isNumber() ? node.asString() : "";
        return value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }
}
