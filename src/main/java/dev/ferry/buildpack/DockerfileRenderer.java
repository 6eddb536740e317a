package dev.ferry.buildpack;

import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Renders a {@link BuildPlan} as a Dockerfile for the kubernetes builder, with repo2docker's conventions: user
 * {@code jovyan}, uid 1000, home {@code /home/jovyan} holding the repository (owned by the user), a Jupyter server in
 * the environment (unless the repository brings its own Dockerfile), port 8888, labels naming the repository and
 * commit. Nothing from the repository is pasted into the Dockerfile unvalidated: package names and versions were
 * checked by the {@link Detector}, labels are escaped, and scripts are referred to by fixed paths.
 */
public final class DockerfileRenderer {

    public static final String DEFAULT_S2I_BUILDER = "registry.access.redhat.com/ubi9/python-311";
    static final String HOME = "/home/jovyan";
    static final String ENV_PREFIX = "/srv/conda/envs/notebook";
    private static final Pattern VERSION = Pattern.compile("^\\d+(\\.\\d+){0,2}$");
    private static final Pattern DATE = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}$");
    private static final String JUPYTER = "notebook jupyterlab ipykernel";

    private final BuildpackProperties settings;

    public DockerfileRenderer(BuildpackProperties settings) {
        this.settings = settings;
    }

    /** What the image is of, for its labels. {@code repoUrl} must be free of credentials. */
    public record Source(String repoUrl, String commit) {
    }

    /**
     * The Dockerfile for the plan. For the {@code docker} buildpack it is the repository's own, returned as
     * {@code null}: the builder uses the file in the checkout.
     */
    public String render(BuildPlan plan, Source source) {
        return switch (plan.buildpack()) {
            case "docker" -> null;
            case "s2i" -> s2i(plan, source);
            case "r" -> r(plan, source);
            case "julia" -> julia(plan, source);
            case "nix" -> nix(plan, source);
            default -> python(plan, source);
        };
    }

    private String python(BuildPlan plan, Source source) {
        String python = checkedVersion(plan.python().orElse(settings.pythonVersion()), "Python");
        StringBuilder d = header(settings.baseImage(), source);
        d.append("COPY --from=").append(settings.micromambaImage()).append(" /bin/micromamba /usr/local/bin/micromamba\n");
        user(d);
        apt(d, plan);
        d.append("ENV MAMBA_ROOT_PREFIX=/srv/conda NB_PYTHON_PREFIX=").append(ENV_PREFIX)
                .append(" PATH=").append(ENV_PREFIX).append("/bin:/srv/conda/bin:${PATH}\n");
        d.append("RUN micromamba create --yes --prefix ").append(ENV_PREFIX).append(" --channel conda-forge python=")
                .append(python).append(" pip ").append(JUPYTER).append(" \\\n && micromamba clean --all --yes \\\n")
                .append(" && chown -R 1000:1000 /srv/conda\n");
        repository(d);
        switch (plan.buildpack()) {
            case "conda" -> d.append("RUN [\"micromamba\", \"install\", \"--yes\", \"--prefix\", \"").append(ENV_PREFIX)
                    .append("\", \"--file\", \"").append(plan.inConfigDir("environment.yml")).append("\"]\n")
                    .append("RUN micromamba clean --all --yes\n");
            case "pipfile" -> {
                d.append("RUN python -m pip install --no-cache-dir pipenv\n");
                d.append("WORKDIR ").append(HOME).append(plan.configDir().isEmpty() ? "" : "/" + plan.configDir()).append('\n');
                d.append("RUN PIPENV_PIPFILE=Pipfile pipenv install --system --dev")
                        .append(plan.files().contains(plan.inConfigDir("Pipfile.lock")) ? " --deploy" : " --skip-lock").append('\n');
                d.append("WORKDIR ").append(HOME).append('\n');
            }
            default -> {
                if (plan.files().contains(plan.inConfigDir("requirements.txt"))) {
                    d.append("RUN [\"python\", \"-m\", \"pip\", \"install\", \"--no-cache-dir\", \"-r\", \"")
                            .append(plan.inConfigDir("requirements.txt")).append("\"]\n");
                }
                if (plan.installPackage()) {
                    d.append("RUN [\"python\", \"-m\", \"pip\", \"install\", \"--no-cache-dir\", \"-e\", \".\"]\n");
                }
            }
        }
        return finish(d, plan);
    }

    private String r(BuildPlan plan, Source source) {
        String asked = plan.r().orElse("latest");
        boolean date = DATE.matcher(asked).matches();
        String tag = date || asked.equals("latest") ? "latest" : checkedVersion(asked, "R");
        StringBuilder d = header(settings.rImage() + ":" + tag, source);
        d.append("COPY --from=").append(settings.micromambaImage()).append(" /bin/micromamba /usr/local/bin/micromamba\n");
        user(d);
        apt(d, plan);
        if (date) {
            d.append("RUN echo 'options(repos = c(CRAN = \"https://packagemanager.posit.co/cran/").append(asked)
                    .append("\"))' >> \"${R_HOME}/etc/Rprofile.site\"\n");
        }
        d.append("ENV MAMBA_ROOT_PREFIX=/srv/conda PATH=").append(ENV_PREFIX).append("/bin:/srv/conda/bin:${PATH}\n");
        d.append("RUN micromamba create --yes --prefix ").append(ENV_PREFIX).append(" --channel conda-forge python=")
                .append(checkedVersion(settings.pythonVersion(), "Python")).append(" pip ").append(JUPYTER)
                .append(" && micromamba clean --all --yes && chown -R 1000:1000 /srv/conda\n");
        d.append("RUN R --quiet -e \"install.packages(c('IRkernel', 'remotes'))\" \\\n")
                .append(" && R --quiet -e \"IRkernel::installspec(user = FALSE, prefix = '").append(ENV_PREFIX).append("')\"\n");
        d.append("RUN chown -R 1000:1000 \"$(R RHOME)/library\" /usr/local/lib/R/site-library 2>/dev/null || true\n");
        repository(d);
        if (plan.files().contains("DESCRIPTION")) {
            d.append("RUN R --quiet -e \"remotes::install_local('.', upgrade = 'never')\"\n");
        }
        if (plan.files().contains(plan.inConfigDir("install.R"))) {
            d.append("RUN [\"Rscript\", \"").append(plan.inConfigDir("install.R")).append("\"]\n");
        }
        return finish(d, plan);
    }

    private String julia(BuildPlan plan, Source source) {
        String version = checkedVersion(plan.julia().orElse("1"), "Julia");
        StringBuilder d = header(settings.juliaImage() + ":" + version, source);
        d.append("COPY --from=").append(settings.micromambaImage()).append(" /bin/micromamba /usr/local/bin/micromamba\n");
        user(d);
        apt(d, plan);
        d.append("ENV MAMBA_ROOT_PREFIX=/srv/conda PATH=").append(ENV_PREFIX).append("/bin:/srv/conda/bin:${PATH} ")
                .append("JULIA_DEPOT_PATH=/srv/julia JULIA_PROJECT=").append(HOME)
                .append(plan.configDir().isEmpty() ? "" : "/" + plan.configDir()).append('\n');
        d.append("RUN micromamba create --yes --prefix ").append(ENV_PREFIX).append(" --channel conda-forge python=")
                .append(checkedVersion(settings.pythonVersion(), "Python")).append(" pip ").append(JUPYTER)
                .append(" && micromamba clean --all --yes && mkdir -p /srv/julia && chown -R 1000:1000 /srv/conda /srv/julia\n");
        repository(d);
        d.append("RUN julia -e 'using Pkg; Pkg.instantiate(); Pkg.add(\"IJulia\"); using IJulia; ")
                .append("installkernel(\"Julia\", \"--project=").append(HOME).append(plan.configDir().isEmpty() ? "" : "/" + plan.configDir())
                .append("\")'\n");
        return finish(d, plan);
    }

    private String nix(BuildPlan plan, Source source) {
        StringBuilder d = header(settings.nixImage(), source);
        d.append("RUN echo 'jovyan:x:1000:1000::").append(HOME).append(":/bin/sh' >> /etc/passwd \\\n")
                .append(" && echo 'jovyan:x:1000:' >> /etc/group && mkdir -p ").append(HOME)
                .append(" && chown 1000:1000 ").append(HOME).append(" && chown -R 1000:1000 /nix\n");
        if (!plan.aptPackages().isEmpty()) {
            d.append("# apt.txt is not used with Nix: list the packages in default.nix\n");
        }
        repository(d);
        d.append("RUN [\"nix-shell\", \"").append(plan.inConfigDir("default.nix")).append("\", \"--run\", \"jupyter --version\"]\n");
        postBuild(d, plan);
        d.append("EXPOSE 8888\n");
        d.append("ENTRYPOINT [\"nix-shell\", \"").append(HOME).append('/').append(plan.inConfigDir("default.nix"))
                .append("\", \"--run\", \"exec \\\"$0\\\" \\\"$@\\\"\"]\n");
        d.append("CMD [\"jupyter\", \"notebook\", \"--ip=0.0.0.0\", \"--port=8888\"]\n");
        return d.toString();
    }

    private String s2i(BuildPlan plan, Source source) {
        String builder = plan.s2iBuilder().orElse(DEFAULT_S2I_BUILDER);
        StringBuilder d = header(builder, source);
        d.append("USER root\n");
        d.append("COPY --chown=1001:0 . /tmp/src\n");
        d.append("RUN chmod -R g+w /tmp/src\n");
        d.append("USER 1001\n");
        d.append("RUN if [ -x /tmp/src/.s2i/bin/assemble ]; then /tmp/src/.s2i/bin/assemble; else /usr/libexec/s2i/assemble; fi\n");
        d.append("EXPOSE 8888\n");
        d.append("CMD [\"/bin/sh\", \"-c\", \"if [ -x /tmp/src/.s2i/bin/run ]; then exec /tmp/src/.s2i/bin/run; else exec /usr/libexec/s2i/run; fi\"]\n");
        return d.toString();
    }

    private StringBuilder header(String image, Source source) {
        StringBuilder d = new StringBuilder();
        d.append("# Rendered by Ferry from the repository's environment files; see docs/environments.md.\n");
        d.append("FROM ").append(image).append('\n');
        d.append("LABEL dev.ferry.repo=").append(labelValue(source.repoUrl()))
                .append(" dev.ferry.commit=").append(labelValue(source.commit()))
                .append(" repo2docker.repo=").append(labelValue(source.repoUrl()))
                .append(" repo2docker.ref=").append(labelValue(source.commit())).append('\n');
        d.append("ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 SHELL=/bin/bash NB_USER=jovyan NB_UID=1000 HOME=")
                .append(HOME).append('\n');
        d.append("USER root\n");
        return d;
    }

    private static void user(StringBuilder d) {
        d.append("RUN if ! getent passwd 1000 >/dev/null; then \\\n")
                .append("      groupadd --gid 1000 jovyan 2>/dev/null || true; \\\n")
                .append("      useradd --uid 1000 --gid 1000 --create-home --home-dir ").append(HOME).append(" --shell /bin/bash jovyan; \\\n")
                .append("    else usermod --login jovyan --home ").append(HOME).append(" --move-home \"$(getent passwd 1000 | cut -d: -f1)\" 2>/dev/null || true; fi \\\n")
                .append(" && mkdir -p ").append(HOME).append(" && chown 1000:1000 ").append(HOME).append('\n');
    }

    private static void apt(StringBuilder d, BuildPlan plan) {
        if (plan.aptPackages().isEmpty()) {
            return;
        }
        d.append("# apt.txt, installed as root\n");
        d.append("RUN apt-get update \\\n && apt-get install --yes --no-install-recommends ")
                .append(plan.aptPackages().stream().map(p -> "'" + p + "'").collect(Collectors.joining(" ")))
                .append(" \\\n && rm -rf /var/lib/apt/lists/*\n");
    }

    private static void repository(StringBuilder d) {
        d.append("COPY --chown=1000:1000 . ").append(HOME).append("/\n");
        d.append("WORKDIR ").append(HOME).append('\n');
        d.append("USER 1000\n");
    }

    private static void postBuild(StringBuilder d, BuildPlan plan) {
        plan.postBuild().ifPresent(path -> d.append("RUN [\"/bin/sh\", \"-c\", \"chmod +x ./").append(path)
                .append(" && exec ./").append(path).append("\"]\n"));
    }

    private static String finish(StringBuilder d, BuildPlan plan) {
        postBuild(d, plan);
        d.append("EXPOSE 8888\n");
        plan.start().ifPresent(path -> {
            d.append("USER root\nRUN chmod +x \"").append(HOME).append('/').append(path).append("\"\nUSER 1000\n");
            d.append("ENTRYPOINT [\"").append(HOME).append('/').append(path).append("\"]\n");
        });
        d.append("CMD [\"jupyter\", \"notebook\", \"--ip=0.0.0.0\", \"--port=8888\"]\n");
        return d.toString();
    }

    private static String checkedVersion(String version, String what) {
        if (!VERSION.matcher(version).matches()) {
            throw new BuildpackException("'" + Detector.printable(version) + "' is not a " + what + " version.");
        }
        return version;
    }

    /** A Dockerfile LABEL value: a double-quoted string with quotes, backslashes and line breaks escaped. */
    static String labelValue(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"', '\\' -> out.append('\\').append(c);
                case '\n', '\r' -> out.append(' ');
                case '$' -> out.append("\\$");
                default -> out.append(Character.isISOControl(c) ? ' ' : c);
            }
        }
        return out.append('"').toString();
    }
}
