package dev.ferry.buildpack;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * Reads a checkout the way repo2docker does and decides its {@link BuildPlan}. A {@code binder/} or {@code .binder/}
 * folder, when present, is the only place looked at (both at once is an error); the first match wins:
 * {@code Dockerfile} > {@code Project.toml} > {@code default.nix} > R ({@code runtime.txt r-…} or a root
 * {@code DESCRIPTION}) > {@code environment.yml} > {@code Pipfile} > {@code requirements.txt} / {@code setup.py} /
 * {@code pyproject.toml} / {@code runtime.txt python-…} > the default Python environment. {@code apt.txt},
 * {@code postBuild} and {@code start} compose with all but a Dockerfile.
 */
public final class Detector {

    private static final Pattern RUNTIME_PYTHON = Pattern.compile("^python-(\\d+\\.\\d+)(\\.\\d+)?$");
    private static final Pattern RUNTIME_R = Pattern.compile("^r-(?:(\\d+\\.\\d+(?:\\.\\d+)?)-)?(\\d{4}-\\d{2}-\\d{2})$");
    private static final Pattern RUNTIME_R_VERSION_ONLY = Pattern.compile("^r-(\\d+\\.\\d+(?:\\.\\d+)?)$");
    private static final Pattern APT_PACKAGE = Pattern.compile("^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$");
    private static final Pattern LEGACY_BINDER = Pattern.compile("^\\s*FROM\\s+andrewosh/binder-base",
            Pattern.CASE_INSENSITIVE | Pattern.MULTILINE);
    private static final Pattern CONDA_PYTHON = Pattern.compile("^python\\s*[=<>~]*=?\\s*(\\d+\\.\\d+)");
    private static final int MAX_APT_PACKAGES = 500;

    private final Optional<String> s2iBuilder;

    /** {@code s2iBuilder}: an operator-configured source-to-image builder image; when set, every repository uses it. */
    public Detector(Optional<String> s2iBuilder) {
        this.s2iBuilder = s2iBuilder.filter(s -> !s.isBlank());
    }

    public Detector() {
        this(Optional.empty());
    }

    public BuildPlan detect(Path checkout) {
        RepoFiles repo = new RepoFiles(checkout);
        boolean binder = repo.isDirectory("binder");
        boolean dotBinder = repo.isDirectory(".binder");
        if (binder && dotBinder) {
            throw new BuildpackException("The repository has both a binder/ and a .binder/ folder; repo2docker and Ferry "
                    + "read only one of them. Keep one.");
        }
        String configDir = binder ? "binder" : dotBinder ? ".binder" : "";
        Plan plan = new Plan(repo, configDir);

        if (s2iBuilder.isPresent() || (!plan.has("Dockerfile") && repo.isFile(".s2i/bin/assemble"))) {
            plan.buildpack = "s2i";
            plan.s2iBuilder = Optional.of(s2iBuilder.orElse(DockerfileRenderer.DEFAULT_S2I_BUILDER));
            if (repo.isFile(".s2i/bin/assemble")) {
                plan.files.add(".s2i/bin/assemble");
            }
            if (repo.isFile(".s2i/bin/run")) {
                plan.files.add(".s2i/bin/run");
            }
            return plan.build();
        }
        if (plan.has("Dockerfile")) {
            String dockerfile = repo.read(plan.path("Dockerfile"));
            if (LEGACY_BINDER.matcher(dockerfile).find()) {
                throw new BuildpackException("This repository's Dockerfile starts FROM andrewosh/binder-base, the legacy "
                        + "Binder base image, which is no longer supported. Replace the Dockerfile with a requirements.txt "
                        + "or environment.yml (see docs/environments.md), or base it on a current image.");
            }
            plan.buildpack = "docker";
            plan.files.add(plan.path("Dockerfile"));
            plan.warnIfPresent("apt.txt", "postBuild", "start", "requirements.txt", "environment.yml");
            return plan.build();
        }

        Optional<String> runtime = plan.runtime();
        if (plan.has("Project.toml") || plan.has("JuliaProject.toml")) {
            String name = plan.has("JuliaProject.toml") ? "JuliaProject.toml" : "Project.toml";
            JsonNode toml = parseToml(repo, plan.path(name));
            plan.buildpack = "julia";
            plan.files.add(plan.path(name));
            JsonNode deps = toml.path("deps");
            deps.propertyNames().forEach(plan.packages::add);
            JsonNode compat = toml.path("compat").path("julia");
            if (compat.isString() && !compat.asString().isBlank()) {
                // the bound as written; the renderer reads it as Pkg does (=1.3 is not 1.3's newest patch)
                plan.julia = Optional.of(JuliaCompat.checked(compat.asString().strip()));
            }
        } else if (plan.has("default.nix")) {
            plan.buildpack = "nix";
            plan.files.add(plan.path("default.nix"));
        } else if (runtime.map(r -> r.startsWith("r-")).orElse(false) || (configDir.isEmpty() && repo.isFile("DESCRIPTION"))) {
            plan.buildpack = "r";
            runtime.filter(r -> r.startsWith("r-")).ifPresent(r -> {
                plan.r = Optional.of(parseRRuntime(r));
                plan.rSnapshot = rSnapshotDate(r);
            });
            if (configDir.isEmpty() && repo.isFile("DESCRIPTION")) {
                plan.files.add("DESCRIPTION");
            }
            if (plan.has("install.R")) {
                plan.files.add(plan.path("install.R"));
            }
        } else if (plan.has("environment.yml")) {
            plan.buildpack = "conda";
            plan.files.add(plan.path("environment.yml"));
            readEnvironmentYml(repo, plan.path("environment.yml"), plan);
        } else if (plan.has("Pipfile") || plan.has("Pipfile.lock")) {
            plan.buildpack = "pipfile";
            if (plan.has("Pipfile")) {
                plan.files.add(plan.path("Pipfile"));
                JsonNode pipfile = parseToml(repo, plan.path("Pipfile"));
                pipfile.path("packages").propertyNames().forEach(plan.packages::add);
                JsonNode version = pipfile.path("requires").path("python_version");
                if (version.isString()) {
                    plan.python = Optional.of(version.asString());
                }
            }
            if (plan.has("Pipfile.lock")) {
                plan.files.add(plan.path("Pipfile.lock"));
            }
        } else {
            plan.buildpack = "python";
            if (plan.has("requirements.txt")) {
                plan.files.add(plan.path("requirements.txt"));
                for (String line : repo.read(plan.path("requirements.txt")).split("\\R")) {
                    String l = line.strip();
                    if (!l.isEmpty() && !l.startsWith("#")) {
                        plan.packages.add(l);
                    }
                }
            }
            if (configDir.isEmpty()) {
                if (repo.isFile("setup.py")) {
                    plan.files.add("setup.py");
                    plan.installPackage = true;
                }
                if (repo.isFile("pyproject.toml")) {
                    parseToml(repo, "pyproject.toml");
                    plan.files.add("pyproject.toml");
                    plan.installPackage = true;
                }
            } else {
                for (String rootOnly : List.of("setup.py", "pyproject.toml")) {
                    if (repo.isFile(rootOnly)) {
                        plan.warnings.add(rootOnly + " in the repository root is ignored because a " + configDir
                                + "/ folder exists (repo2docker's rule).");
                    }
                }
            }
        }
        if (configDir.isEmpty() == false && repo.isFile("DESCRIPTION") && !plan.buildpack.equals("r")) {
            plan.warnings.add("DESCRIPTION in the repository root is ignored because a " + configDir + "/ folder exists.");
        }
        runtime.ifPresent(r -> {
            Matcher python = RUNTIME_PYTHON.matcher(r);
            if (python.matches()) {
                if (plan.buildpack.equals("python") || plan.buildpack.equals("pipfile")) {
                    plan.python = Optional.of(python.group(1));
                } else {
                    plan.warnings.add("runtime.txt asks for " + r + ", which the " + plan.buildpack + " buildpack does not use.");
                }
            } else if (!r.startsWith("r-")) {
                throw new BuildpackException("runtime.txt says '" + printable(r) + "'; it must be python-X.Y (e.g. python-3.11) "
                        + "or r-YYYY-MM-DD / r-X.Y-YYYY-MM-DD.");
            }
            plan.files.add(plan.path("runtime.txt"));
        });
        plan.composables();
        return plan.build();
    }

    private static String parseRRuntime(String runtime) {
        Matcher m = RUNTIME_R.matcher(runtime);
        if (m.matches()) {
            return m.group(1) != null ? m.group(1) : m.group(2);
        }
        Matcher v = RUNTIME_R_VERSION_ONLY.matcher(runtime);
        if (v.matches()) {
            return v.group(1);
        }
        throw new BuildpackException("runtime.txt says '" + printable(runtime) + "'; for R it must be r-YYYY-MM-DD or "
                + "r-X.Y-YYYY-MM-DD (e.g. r-4.3-2023-10-01).");
    }

    /** The CRAN snapshot date of {@code r-[X.Y-]YYYY-MM-DD}, also when a version is named. */
    private static Optional<String> rSnapshotDate(String runtime) {
        Matcher m = RUNTIME_R.matcher(runtime);
        return m.matches() ? Optional.of(m.group(2)) : Optional.empty();
    }

    private static JsonNode parseToml(RepoFiles repo, String path) {
        try {
            return TomlMapper.builder().build().readTree(repo.read(path));
        } catch (JacksonException e) {
            throw new BuildpackException(path + " is not valid TOML: " + printable(firstLine(e.getOriginalMessage())) + ".");
        }
    }

    private static void readEnvironmentYml(RepoFiles repo, String path, Plan plan) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(20);
        options.setAllowDuplicateKeys(false);
        options.setCodePointLimit((int) RepoFiles.MAX_CONFIG_BYTES);
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(options)).load(repo.read(path));
        } catch (RuntimeException e) {
            throw new BuildpackException(path + " is not valid YAML: " + printable(firstLine(e.getMessage())) + ".");
        }
        if (doc == null) {
            return;
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw new BuildpackException(path + " must be a mapping with a 'dependencies' list (see docs/environments.md).");
        }
        Object deps = map.get("dependencies");
        if (deps != null && !(deps instanceof List<?>)) {
            throw new BuildpackException(path + ": 'dependencies' must be a list.");
        }
        if (deps instanceof List<?> list) {
            for (Object dep : list) {
                if (dep instanceof String s) {
                    plan.packages.add(s);
                    Matcher m = CONDA_PYTHON.matcher(s.strip());
                    if (m.find()) {
                        plan.python = Optional.of(m.group(1));
                    }
                } else if (dep instanceof Map<?, ?> pip && pip.get("pip") instanceof List<?> pipList) {
                    pipList.forEach(p -> plan.packages.add("pip:" + p));
                } else {
                    throw new BuildpackException(path + ": every dependency must be a string such as 'numpy=1.26' or a "
                            + "'pip:' list.");
                }
            }
        }
    }

    static String printable(String text) {
        String t = text == null ? "" : text.replaceAll("\\p{Cntrl}", "?");
        return t.length() > 120 ? t.substring(0, 120) + "…" : t;
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    /** The plan being assembled. */
    private static final class Plan {
        final RepoFiles repo;
        final String configDir;
        String buildpack = "python";
        final List<String> files = new ArrayList<>();
        Optional<String> python = Optional.empty();
        Optional<String> r = Optional.empty();
        Optional<String> julia = Optional.empty();
        Optional<String> rSnapshot = Optional.empty();
        final List<String> packages = new ArrayList<>();
        final List<String> apt = new ArrayList<>();
        Optional<String> postBuild = Optional.empty();
        Optional<String> start = Optional.empty();
        boolean installPackage;
        Optional<String> s2iBuilder = Optional.empty();
        final List<String> warnings = new ArrayList<>();

        Plan(RepoFiles repo, String configDir) {
            this.repo = repo;
            this.configDir = configDir;
        }

        String path(String name) {
            return configDir.isEmpty() ? name : configDir + "/" + name;
        }

        boolean has(String name) {
            return repo.isFile(path(name));
        }

        Optional<String> runtime() {
            if (!has("runtime.txt")) {
                return Optional.empty();
            }
            String text = repo.read(path("runtime.txt")).strip();
            if (text.contains("\n")) {
                throw new BuildpackException("runtime.txt must hold one line, such as python-3.11.");
            }
            return Optional.of(text);
        }

        void warnIfPresent(String... names) {
            for (String name : names) {
                if (has(name)) {
                    warnings.add(path(name) + " is ignored: a Dockerfile decides everything about the environment.");
                }
            }
        }

        void composables() {
            if (has("apt.txt")) {
                String file = path("apt.txt");
                files.add(file);
                int lineNo = 0;
                for (String line : repo.read(file).split("\\R")) {
                    lineNo++;
                    String l = line.strip();
                    if (l.isEmpty() || l.startsWith("#")) {
                        continue;
                    }
                    if (!APT_PACKAGE.matcher(l).matches()) {
                        throw new BuildpackException(file + " line " + lineNo + " is not a Debian package name: '"
                                + printable(l) + "'. Write one package per line, e.g. graphviz or libgdal-dev.");
                    }
                    apt.add(l);
                }
                if (apt.size() > MAX_APT_PACKAGES) {
                    throw new BuildpackException(file + " lists " + apt.size() + " packages; at most " + MAX_APT_PACKAGES + ".");
                }
            }
            if (has("postBuild")) {
                postBuild = Optional.of(path("postBuild"));
                files.add(path("postBuild"));
            }
            if (has("start")) {
                start = Optional.of(path("start"));
                files.add(path("start"));
            }
        }

        BuildPlan build() {
            return new BuildPlan(buildpack, configDir, files, python, r, julia, packages, apt, postBuild, start,
                    installPackage, s2iBuilder, warnings, rSnapshot);
        }
    }
}
