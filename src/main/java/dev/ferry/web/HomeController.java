package dev.ferry.web;

import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.http.HttpServletResponse;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;

import dev.ferry.cull.CullProperties;
import dev.ferry.Durations;

/** The home page: paste a repository URL, choose a ref and what to open, launch. */
@Controller
class HomeController {

    private final CullProperties cull;

    HomeController(CullProperties cull) {
        this.cull = cull;
    }

    @GetMapping("/")
    String home(Model model) {
        model.addAttribute("idleTimeout", Durations.human(cull.idleTimeout()));
        model.addAttribute("maxAge", Durations.human(cull.maxAge()));
        return "home";
    }

    /** The form's target when JavaScript is off: checks the fields and redirects to the launch link. */
    @GetMapping("/launch")
    String launch(@RequestParam(defaultValue = "") String repo, @RequestParam(defaultValue = "HEAD") String ref,
                  @RequestParam(defaultValue = "") String path, @RequestParam(defaultValue = "file") String pathType,
                  Model model, HttpServletResponse response) {
        List<String> errors = new ArrayList<>();
        String url = repo.trim();
        if (url.isEmpty()) {
            errors.add("Enter the URL of a git repository.");
        } else if (!url.contains("://")) {
            errors.add("The repository URL must start with https://.");
        }
        String cleanRef = ref.trim().isEmpty() ? "HEAD" : ref.trim();
        if (!errors.isEmpty()) {
            response.setStatus(400);
            model.addAttribute("errors", errors);
            model.addAttribute("repo", repo);
            model.addAttribute("ref", ref);
            return home(model);
        }
        String link = LaunchLinks.gitLaunchPath(url, cleanRef);
        String p = path.trim();
        if (!p.isEmpty()) {
            link += (pathType.equals("url") ? "?urlpath=" : "?filepath=") + LaunchLinks.encode(p);
        }
        return "redirect:" + link;
    }
}
