package dev.ferry.web;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.ferry.FerryException;
import dev.ferry.FerryProperties;
import dev.ferry.access.LaunchGuard;
import dev.ferry.repo.ArchiveProvider;
import dev.ferry.repo.ArchiveRecord;
import dev.ferry.repo.RefResolver;
import dev.ferry.repo.RepoProviders;
import dev.ferry.repo.RepoSpec;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.repo.Urls;

/**
 * The launch page, {@code /v2/<provider>/<spec>}: shows the phases and live log of the launch while it follows the
 * build API, then sends the browser to the server. The spec is read from the raw path, so {@code %2F} survives.
 */
@Controller
class LaunchPageController {

    private final RepoProviders providers;
    private final RefResolver resolver;
    private final FerryProperties ferry;
    private final LaunchGuard guard;

    LaunchPageController(RepoProviders providers, FerryProperties ferry, LaunchGuard guard, RefResolver resolver) {
        this.resolver = resolver;
        this.providers = providers;
        this.ferry = ferry;
        this.guard = guard;
    }

    /**
     * A record of a research archive is named on its page by title, authors and version: the page asks the archive
     * (the answer is cached for the build API's request that follows, so the archive is asked once per launch).
     */
    private void describeRecord(RepoSpec spec, Model model) {
        ResolvedRepo resolved = resolver.resolve(spec);
        ArchiveRecord record = resolved.archive();
        model.addAttribute("repoUrl", resolved.spec().displayUrl());
        model.addAttribute("recordVersion", record.version());
        model.addAttribute("recordTitle", record.title());
        model.addAttribute("recordAuthors", String.join("; ", record.authors()));
        if (!record.title().isEmpty()) {
            model.addAttribute("repoName", record.title());
            model.addAttribute("ogTitle", providers.get(spec.provider()).displayName() + ": " + record.citation());
        }
    }

    /**
     * {@code /api/record/<provider>/<spec>}: the record a research-archive link names (title, authors, version, resolved
     * spec), for the home page's share snippets. The answer is cached like the launch page's, so the archive is not
     * asked again when the link is launched.
     */
    @GetMapping(path = "/api/record/**", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<RecordReply> record(HttpServletRequest request) {
        try {
            String[] link = providerAndSpec(request, "/api/record/", "Ask for /api/record/<provider>/<spec>.");
            String provider = link[0];
            if (!(providers.get(provider) instanceof ArchiveProvider)) {
                throw new FerryException(
                        404,
                        "The provider " + Urls.printable(provider) + " does not launch records of research archives.");
            }
            ResolvedRepo resolved = resolver.resolve(providers.parse(provider, link[1]));
            ArchiveRecord record = resolved.archive();
            return ResponseEntity.ok(new RecordAnswer(
                    provider,
                    record.title(),
                    record.authors(),
                    record.version(),
                    record.citation(),
                    resolved.resolvedSpec()));
        } catch (FerryException e) {
            return ResponseEntity.status(e.status()).body(new RecordRefusal(e.status(), e.getMessage()));
        }
    }

    /**
     * The provider and the raw spec of a path {@code <prefix><provider>/<spec>}, once the page guard lets the request
     * through; {@code malformed} is the 404's sentence for a path without both.
     */
    private String[] providerAndSpec(HttpServletRequest request, String prefix, String malformed) {
        LaunchGuard.Refusal refusal = guard.checkPage(request);
        if (refusal != null) {
            throw new FerryException(refusal.status(), refusal.message());
        }
        String path = request.getRequestURI().substring(request.getContextPath().length() + prefix.length());
        int slash = path.indexOf('/');
        if (slash <= 0) {
            throw new FerryException(404, malformed);
        }
        return new String[] {path.substring(0, slash), path.substring(slash + 1)};
    }

    /** {@code /api/record}'s JSON: the record, or why there is none. */
    sealed interface RecordReply permits RecordAnswer, RecordRefusal {}

    /** What the share snippets say about the record. */
    record RecordAnswer(
            String provider,
            String title,
            List<String> authors,
            String version,
            String citation,
            @JsonProperty("resolved_spec") String resolvedSpec)
            implements RecordReply {}

    /** A refused request: its status again, and the sentence to show. */
    record RecordRefusal(int status, String message) implements RecordReply {}

    @GetMapping("/v2/**")
    String launchPage(
            HttpServletRequest request,
            HttpServletResponse response,
            Model model,
            @RequestParam(required = false) String urlpath,
            @RequestParam(required = false) String labpath,
            @RequestParam(required = false) String filepath) {
        try {
            String[] link = providerAndSpec(
                    request,
                    "/v2/",
                    "Launch links have the form /v2/<provider>/<spec>, for example "
                            + "/v2/git/https%3A%2F%2Fexample.org%2Frepo.git/HEAD.");
            String provider = link[0];
            String rawSpec = link[1];
            RepoSpec spec = providers.parse(provider, rawSpec);
            model.addAttribute("providerName", providers.get(provider).displayName());
            model.addAttribute("ogTitle", providers.get(provider).displayName() + ": " + spec.shownSpec());
            model.addAttribute("badgeUrl", PublicUrls.base(request, ferry) + "/badge_logo.svg");
            model.addAttribute("repoUrl", spec.displayUrl());
            String shown =
                    spec.displayUrl().replaceFirst("^[a-z]+://[^/]+/", "").replaceFirst("\\.git$", "");
            model.addAttribute("repoName", shown.isEmpty() ? spec.displayUrl() : shown);
            model.addAttribute("ref", spec.ref());
            if (providers.get(provider) instanceof ArchiveProvider) {
                describeRecord(spec, model);
            }
            String launch = provider + "/" + rawSpec;
            String token = guard.tokenFor(launch, request);
            model.addAttribute(
                    "buildUrl",
                    request.getContextPath() + "/build/" + launch
                            + (token == null
                                    ? ""
                                    : "?build_token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)));
            model.addAttribute("urlpath", LaunchLinks.urlpath(urlpath, labpath, filepath));
        } catch (FerryException e) {
            response.setStatus(e.status());
            model.addAttribute("error", e.getMessage());
        }
        return "launch";
    }
}
