package dev.ferry.web;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;

import dev.ferry.Durations;
import dev.ferry.FerryException;
import dev.ferry.FerryProperties;
import dev.ferry.cull.CullProperties;
import dev.ferry.repo.ProviderDisplay;
import dev.ferry.repo.RepoProperties;
import dev.ferry.repo.RepoProviders;

/** The home page: choose a repository, a ref and what to open; get a launch link, badge snippets, or launch. */
@Controller
class HomeController {

    private final CullProperties cull;
    private final RepoProviders providers;
    private final FerryProperties ferry;
    private final WebProperties web;
    private final RepoProperties repo;

    HomeController(
            CullProperties cull,
            RepoProviders providers,
            FerryProperties ferry,
            WebProperties web,
            RepoProperties repo) {
        this.cull = cull;
        this.providers = providers;
        this.ferry = ferry;
        this.web = web;
        this.repo = repo;
    }

    @GetMapping("/")
    String home(Model model, HttpServletRequest request) {
        model.addAttribute("idleTimeout", Durations.human(cull.idleTimeout()));
        model.addAttribute("maxAge", Durations.human(cull.maxAge()));
        model.addAttribute(
                "providers", providers.all().stream().map(p -> p.display()).toList());
        model.addAttribute("publicBase", PublicUrls.base(request, ferry));
        model.addAttribute("githubHost", repo.githubHost());
        model.addAttribute("gitlabHost", repo.gitlabHost());
        model.addAttribute("gistHost", repo.gistHost());
        model.addAttribute("banner", web.banner().isBlank() ? null : web.banner());
        model.addAttribute("about", web.about().isBlank() ? null : web.about());
        model.addAttribute(
                "resources",
                web.resources().isBlank()
                        ? "Notebooks run with the resources of this Ferry's machine, shared with the other sessions."
                        : "Each session gets " + web.resources() + ".");
        if (!model.containsAttribute("provider")) {
            model.addAttribute("provider", "gh");
        }
        return "home";
    }

    /** The form's target when JavaScript is off: checks the fields and redirects to the launch link. */
    @GetMapping("/launch")
    String launch(
            @RequestParam(defaultValue = "gh") String provider,
            @RequestParam(defaultValue = "") String repo,
            @RequestParam(defaultValue = "HEAD") String ref,
            @RequestParam(defaultValue = "") String path,
            @RequestParam(defaultValue = "file") String pathType,
            Model model,
            HttpServletRequest request,
            HttpServletResponse response) {
        List<String> errors = new ArrayList<>();
        String cleanRepo = repo.trim();
        String cleanRef = ref.trim().isEmpty() ? "HEAD" : ref.trim();
        ProviderDisplay display = null;
        try {
            display = providers.get(provider).display();
        } catch (FerryException e) {
            errors.add(e.getMessage());
        }
        if (cleanRepo.isEmpty()) {
            errors.add("Enter a repository.");
        } else if ("git".equals(provider) && !cleanRepo.contains("://")) {
            errors.add("The repository URL must start with https://.");
        }
        if (!errors.isEmpty() || display == null) {
            response.setStatus(400);
            model.addAttribute("errors", errors);
            model.addAttribute("repo", repo);
            model.addAttribute("ref", ref);
            model.addAttribute("provider", provider);
            return home(model, request);
        }
        // a record of a research archive has no ref; a pasted record URL is encoded (its // would not survive a path)
        String link = display.refEnabled()
                ? LaunchLinks.launchPath(display.id(), cleanRepo, display.urlEncode(), cleanRef)
                : "/v2/" + display.id() + "/"
                        + (cleanRepo.contains("://")
                                ? LaunchLinks.encode(cleanRepo)
                                : LaunchLinks.encodeRef(cleanRepo));
        String p = path.trim();
        if (!p.isEmpty()) {
            link += (pathType.equals("url") ? "?urlpath=" : "?filepath=") + LaunchLinks.encode(p);
        }
        return "redirect:" + link;
    }

    /** BinderHub's legacy links: {@code /repo/<owner>/<repo>[/<path>]} → {@code /v2/gh/<owner>/<repo>/master[?urlpath=<path>]}. */
    @GetMapping({"/repo/{owner}/{repo}", "/repo/{owner}/{repo}/**"})
    String legacy(@PathVariable String owner, @PathVariable String repo, HttpServletRequest request) {
        String prefix = "/repo/";
        String rest = request.getRequestURI().substring(request.getContextPath().length() + prefix.length());
        String[] parts = rest.split("/", 3);
        String link = "/v2/gh/" + LaunchLinks.encode(owner) + "/" + LaunchLinks.encode(repo) + "/master";
        if (parts.length == 3 && !parts[2].replace("/", "").isEmpty()) {
            link += "?urlpath="
                    + LaunchLinks.encode("/" + URLDecoder.decode(parts[2].replace("+", "%2B"), StandardCharsets.UTF_8));
        }
        return "redirect:" + link;
    }
}
