package dev.ferry.buildpack;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * Reads a checkout the way repo2docker does and decides its {@link BuildPlan}. A {@code binder/} or {@code .binder/}
 * folder, when present, is the only place looked at (both at once is an error); the first match wins:
 * {@code Dockerfile} > {@code Project.toml} > ({@code REQUIRE}, refused) > {@code default.nix} > R
 * ({@code runtime.txt r-…} or a root {@code DESCRIPTION}) > {@code environment.yml} (or {@code environment.yaml}) >
 * {@code Pipfile} > {@code requirements.txt} / {@code setup.py} / {@code pyproject.toml} /
 * {@code runtime.txt python-…} > the default Python environment. {@code apt.txt}, {@code postBuild} and {@code start}
 * compose with all but a Dockerfile. docs/environments.md lists where Ferry differs from repo2docker, and why.
 */
public final class Detector {

    private static final Pattern RUNTIME_PYTHON = Pattern.compile("^python-(\\d+)(?:\\.(\\d+))?(\\.\\d+)?$");
    private static final Pattern RUNTIME_R =
            Pattern.compile("^r-(?:(\\d+\\.\\d+(?:\\.\\d+)?)-)?(\\d{4}-\\d{2}-\\d{2})$");
    private static final Pattern RUNTIME_R_VERSION_ONLY = Pattern.compile("^r-(\\d+\\.\\d+(?:\\.\\d+)?)$");
    private static final Pattern APT_PACKAGE = Pattern.compile("^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$");
    private static final Pattern LEGACY_BINDER =
            Pattern.compile("^\\s*FROM\\s+andrewosh/binder-base", Pattern.CASE_INSENSITIVE | Pattern.MULTILINE);
    /** repo2docker's reading of a conda dependency: {@code python=…} or {@code python==…} pins, bounds do not. */
    private static final Pattern CONDA_PYTHON = Pattern.compile("^python\\s*=+\\s*([\\d.]*)");
    /** A Pipfile's or Pipfile.lock's Python: the leading version number, as repo2docker reads it. */
    private static final Pattern PIPFILE_PYTHON = Pattern.compile("^\\d+(\\.\\d+)*");

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
            throw new BuildpackException(
                    "The repository has both a binder/ and a .binder/ folder; repo2docker and Ferry "
                            + "read only one of them. Keep one.");
        }
        String configDir = binder ? "binder" : dotBinder ? ".binder" : "";
        Plan plan = new Plan(repo, configDir);

        if (s2iBuilder.isPresent() || (!plan.has("Dockerfile") && repo.isFile(".s2i/bin/assemble"))) {
            plan.buildpack = Buildpack.S2I;
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
                throw new BuildpackException(
                        "This repository's Dockerfile starts FROM andrewosh/binder-base, the legacy "
                                + "Binder base image, which is no longer supported. Replace the Dockerfile with a requirements.txt "
                                + "or environment.yml (see docs/environments.md), or base it on a current image.");
            }
            plan.buildpack = Buildpack.DOCKER;
            plan.files.add(plan.path("Dockerfile"));
            plan.warnIfPresent("apt.txt", "postBuild", "start", "requirements.txt", "environment.yml");
            return plan.build();
        }

        Optional<String> runtime = plan.runtime();
        if (plan.has("Project.toml") || plan.has("JuliaProject.toml")) {
            String name = plan.has("JuliaProject.toml") ? "JuliaProject.toml" : "Project.toml";
            JsonNode toml = parseToml(repo, plan.path(name));
            plan.buildpack = Buildpack.JULIA;
            plan.files.add(plan.path(name));
            JsonNode deps = toml.path("deps");
            deps.propertyNames().forEach(plan.packages::add);
            JsonNode compat = toml.path("compat").path("julia");
            if (compat.isString() && !compat.asString().isBlank()) {
                // the bound as written; the renderer reads it as Pkg does (=1.3 is not 1.3's newest patch)
                plan.julia = Optional.of(JuliaCompat.checked(compat.asString().strip()));
            }
        } else if (plan.has("REQUIRE")) {
            throw new BuildpackException(plan.path("REQUIRE") + " describes a legacy Julia environment (the REQUIRE "
                    + "format of Julia 0.6 to 1.1), which Ferry does not build. Describe it with a Project.toml (in Julia "
                    + "1.x: activate the folder in Pkg and add the packages), which Ferry and mybinder.org both read.");
        } else if (plan.has("default.nix")) {
            plan.buildpack = Buildpack.NIX;
            plan.files.add(plan.path("default.nix"));
        } else if (runtime.map(r -> r.startsWith("r-")).orElse(false)
                || (configDir.isEmpty() && repo.isFile("DESCRIPTION"))) {
            plan.buildpack = Buildpack.R;
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
        } else if (plan.has("environment.yml") || plan.has("environment.yaml")) {
            // repo2docker reads only environment.yml and silently builds plain Python from a lone environment.yaml
            // (jupyterhub/repo2docker#970, #1373); Ferry reads either, the .yml first as repo2docker would.
            String name = plan.has("environment.yml") ? "environment.yml" : "environment.yaml";
            if (name.equals("environment.yml") && plan.has("environment.yaml")) {
                plan.warnings.add(plan.path("environment.yaml") + " is ignored: " + plan.path("environment.yml")
                        + " is used. Keep one of them.");
            }
            plan.buildpack = Buildpack.CONDA;
            plan.condaFile = Optional.of(plan.path(name));
            plan.files.add(plan.path(name));
            readEnvironmentYml(repo, plan.path(name), plan);
        } else if (plan.has("Pipfile") || plan.has("Pipfile.lock")) {
            plan.buildpack = Buildpack.PIPFILE;
            readPipfile(repo, plan);
        } else {
            plan.buildpack = Buildpack.PYTHON;
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
                if (repo.isFile("pyproject.toml") && installablePyproject(parseToml(repo, "pyproject.toml"))) {
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
        if (configDir.isEmpty() == false && repo.isFile("DESCRIPTION") && plan.buildpack != Buildpack.R) {
            plan.warnings.add(
                    "DESCRIPTION in the repository root is ignored because a " + configDir + "/ folder exists.");
        }
        runtime.ifPresent(r -> {
            Matcher python = RUNTIME_PYTHON.matcher(r);
            if (python.matches()) {
                if (plan.buildpack == Buildpack.PYTHON) {
                    plan.python = runtimePython(python);
                } else if (plan.buildpack == Buildpack.PIPFILE) {
                    plan.warnings.add(
                            "runtime.txt asks for " + r + ", but with a Pipfile the Python version comes from "
                                    + "Pipfile.lock or the Pipfile's [requires] (as on mybinder.org); runtime.txt is not used.");
                } else {
                    plan.warnings.add(
                            "runtime.txt asks for " + r + ", which the " + plan.buildpack + " buildpack does not use.");
                }
            } else if (!r.startsWith("r-")) {
                throw new BuildpackException(
                        "runtime.txt says '" + printable(r) + "'; it must be python-X.Y (e.g. python-3.11, "
                                + "or python-3 for the default) or r-YYYY-MM-DD / r-X.Y-YYYY-MM-DD.");
            }
            plan.files.add(plan.path("runtime.txt"));
        });
        serverRequirements(plan);
        plan.composables();
        return plan.build();
    }

    /** {@code python-3} is the default 3.x, {@code python-2} is 2.7, {@code python-X.Y[.Z]} is X.Y (repo2docker's rules). */
    private static Optional<String> runtimePython(Matcher python) {
        if (python.group(2) == null) {
            return majorOnly(python.group(1), "runtime.txt");
        }
        return Optional.of(python.group(1) + "." + python.group(2));
    }

    /** A bare major version: 3 means the default Python, 2 means 2.7, as in repo2docker. */
    private static Optional<String> majorOnly(String major, String where) {
        return switch (major) {
            case "3" -> Optional.empty();
            case "2" -> Optional.of("2.7");
            default ->
                throw new BuildpackException(where + " asks for Python " + major + "; write the version as X.Y "
                        + "(e.g. 3.11), or 3 for the default Python.");
        };
    }

    /** X.Y from a version such as {@code 3.10.4}, {@code 3.10.} or {@code 3}; empty for the default. */
    private static Optional<String> majorMinor(String version, String where) {
        String[] parts = version.split("\\.");
        if (parts.length == 0 || parts[0].isEmpty()) {
            return Optional.empty();
        }
        if (parts.length == 1) {
            return majorOnly(parts[0], where);
        }
        return Optional.of(parts[0] + "." + parts[1]);
    }

    /**
     * requirements3.txt goes into the notebook server's environment when the kernel runs a legacy Python (repo2docker's
     * python and Pipfile buildpacks); anywhere else repo2docker ignores it, and Ferry says so.
     */
    private static void serverRequirements(Plan plan) {
        if (!plan.has("requirements3.txt")) {
            return;
        }
        boolean honoured =
                plan.buildpack.pip() && plan.python.map(BuildPlan::isLegacy).orElse(false);
        if (honoured) {
            plan.serverRequirements = Optional.of(plan.path("requirements3.txt"));
            plan.files.add(plan.path("requirements3.txt"));
        } else {
            plan.warnings.add(plan.path("requirements3.txt") + " is ignored: it is for the notebook server's own "
                    + "environment when the repository asks for Python older than " + BuildPlan.SEPARATE_KERNEL_BELOW
                    + " (with requirements.txt or a Pipfile), as on mybinder.org.");
        }
    }

    /**
     * A pyproject.toml makes the repository an installable package only when it says how to build it and what it is
     * ({@code [build-system]} and {@code [project]}); one that only configures tools (black, ruff, pytest) does not.
     */
    private static boolean installablePyproject(JsonNode pyproject) {
        return pyproject.path("build-system").isObject()
                && pyproject.path("project").isObject();
    }

    /** The Pipfile's packages, and the Python of Pipfile.lock's {@code _meta.requires}, then the Pipfile's {@code [requires]}. */
    private static void readPipfile(RepoFiles repo, Plan plan) {
        Map<String, JsonNode> requires = new LinkedHashMap<>(); // file -> its requires, in the order read
        if (plan.has("Pipfile.lock")) {
            String lock = plan.path("Pipfile.lock");
            try {
                requires.put(
                        lock,
                        JsonMapper.builder()
                                .build()
                                .readTree(repo.read(lock))
                                .path("_meta")
                                .path("requires"));
            } catch (JacksonException e) {
                throw new BuildpackException(lock + " is not valid JSON: "
                        + printable(firstLine(e.getOriginalMessage())) + ". Recreate it with pipenv lock.");
            }
        }
        if (plan.has("Pipfile")) {
            plan.files.add(plan.path("Pipfile"));
            JsonNode pipfile = parseToml(repo, plan.path("Pipfile"));
            pipfile.path("packages").propertyNames().forEach(plan.packages::add);
            requires.put(plan.path("Pipfile"), pipfile.path("requires"));
        }
        if (plan.has("Pipfile.lock")) {
            plan.files.add(plan.path("Pipfile.lock"));
        }
        for (Map.Entry<String, JsonNode> source : requires.entrySet()) {
            for (String key : List.of("python_full_version", "python_version")) {
                JsonNode value = source.getValue().path(key);
                Matcher m = value.isString()
                        ? PIPFILE_PYTHON.matcher(value.asString().strip())
                        : null;
                if (m != null && m.find()) {
                    plan.python = majorMinor(m.group(), source.getKey());
                    return;
                }
            }
        }
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
            throw new BuildpackException(
                    path + " is not valid TOML: " + printable(firstLine(e.getOriginalMessage())) + ".");
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
            throw new BuildpackException(
                    path + " must be a mapping with a 'dependencies' list (see docs/environments.md).");
        }
        Object deps = map.get("dependencies");
        if (deps != null && !(deps instanceof List<?>)) {
            throw new BuildpackException(path + ": 'dependencies' must be a list.");
        }
        if (deps instanceof List<?> list) {
            boolean pythonSeen = false;
            for (Object dep : list) {
                if (dep instanceof String s) {
                    plan.packages.add(s);
                    Matcher m = CONDA_PYTHON.matcher(s.strip());
                    if (!pythonSeen && m.find()) {
                        pythonSeen = true; // the first python dependency counts, as in repo2docker
                        plan.python = majorMinor(m.group(1), path);
                    }
                } else if (dep instanceof Map<?, ?> pip && pip.get("pip") instanceof List<?> pipList) {
                    pipList.forEach(p -> plan.packages.add("pip:" + p));
                } else {
                    throw new BuildpackException(
                            path + ": every dependency must be a string such as 'numpy=1.26' or a " + "'pip:' list.");
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
        Buildpack buildpack = Buildpack.PYTHON;
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
        Optional<String> condaFile = Optional.empty();
        Optional<String> serverRequirements = Optional.empty();

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
                    throw new BuildpackException(
                            file + " lists " + apt.size() + " packages; at most " + MAX_APT_PACKAGES + ".");
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
            return new BuildPlan(
                    buildpack,
                    configDir,
                    files,
                    python,
                    r,
                    julia,
                    packages,
                    apt,
                    postBuild,
                    start,
                    installPackage,
                    s2iBuilder,
                    warnings,
                    condaFile,
                    serverRequirements,
                    rSnapshot);
        }
    }
}
