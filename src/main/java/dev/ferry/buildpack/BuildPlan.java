package dev.ferry.buildpack;

import java.util.List;
import java.util.Optional;

/**
 * What a repository asks for, read from the files repo2docker reads, with repo2docker's precedence. Immutable; the
 * same plan drives the Dockerfile (kubernetes) and the local build.
 *
 * @param buildpack     {@code docker}, {@code julia}, {@code nix}, {@code r}, {@code conda}, {@code pipfile},
 *                      {@code python} or {@code s2i}
 * @param configDir     where the files were read: {@code binder}, {@code .binder}, or empty for the repository root
 * @param files         the files this plan used, relative to the repository root
 * @param python        the Python version asked for, always {@code X.Y} ({@code 3.10}, {@code 2.7}); empty means the
 *                      default Python (nothing asked, {@code python-3}, {@code python=3}, or a bound such as
 *                      {@code python>=3.8}, which repo2docker does not read as a pin either)
 * @param r             the R version or snapshot date asked for ({@code 4.3}, {@code 2023-10-01}), if any
 * @param julia         the Julia version asked for ({@code 1.9}), if any
 * @param packages      what the main file lists (requirements, conda dependencies, Julia or Pipfile packages)
 * @param aptPackages   Debian/Ubuntu packages from {@code apt.txt}, validated
 * @param postBuild     the {@code postBuild} script, relative to the repository root, if any
 * @param start         the {@code start} script, relative to the repository root, if any
 * @param installPackage whether the repository itself is installed ({@code pip install -e .}): a root {@code setup.py},
 *                      or a root {@code pyproject.toml} with both {@code [build-system]} and {@code [project]}, without
 *                      a binder folder
 * @param s2iBuilder    the source-to-image builder image, for {@code s2i}
 * @param warnings      things the user should know (ignored files, unusual choices)
 * @param condaFile     the conda environment file used ({@code environment.yml} or {@code environment.yaml}, in the
 *                      configuration folder), for {@code conda}
 * @param serverRequirements {@code requirements3.txt} (in the configuration folder), for the notebook server's own
 *                      environment, when repo2docker honours it: a {@code python} or {@code pipfile} repository whose
 *                      kernel asks for a legacy Python (see {@link #legacyPython()})
 * @param rSnapshot     the CRAN snapshot date {@code runtime.txt} names ({@code r-4.3-2023-10-01} → {@code 2023-10-01}),
 *                      also when it names an R version
 */
public record BuildPlan(
        Buildpack buildpack,
        String configDir,
        List<String> files,
        Optional<String> python,
        Optional<String> r,
        Optional<String> julia,
        List<String> packages,
        List<String> aptPackages,
        Optional<String> postBuild,
        Optional<String> start,
        boolean installPackage,
        Optional<String> s2iBuilder,
        List<String> warnings,
        Optional<String> condaFile,
        Optional<String> serverRequirements,
        Optional<String> rSnapshot) {

    /** Pythons older than this run as a separate kernel environment beside the server's (repo2docker's cut-off). */
    public static final String SEPARATE_KERNEL_BELOW = "3.7";

    public BuildPlan {
        files = List.copyOf(files);
        packages = List.copyOf(packages);
        aptPackages = List.copyOf(aptPackages);
        warnings = List.copyOf(warnings);
    }

    /** The path of a file in the configuration folder, relative to the repository root. */
    public String inConfigDir(String name) {
        return configDir.isEmpty() ? name : configDir + "/" + name;
    }

    /**
     * Whether the Python asked for is older than {@value #SEPARATE_KERNEL_BELOW} (2.7, 3.5, 3.6): repo2docker then
     * keeps the server on the default Python and makes the requested one a separate kernel environment.
     */
    public boolean legacyPython() {
        return python.map(BuildPlan::isLegacy).orElse(false);
    }

    static boolean isLegacy(String version) {
        String[] v = version.split("\\.");
        String[] cut = SEPARATE_KERNEL_BELOW.split("\\.");
        int major = Integer.parseInt(v[0]);
        int minor = v.length > 1 ? Integer.parseInt(v[1]) : 0;
        return major < Integer.parseInt(cut[0])
                || (major == Integer.parseInt(cut[0]) && minor < Integer.parseInt(cut[1]));
    }
}
