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
 * @param python        the Python version asked for ({@code 3.10}), if any
 * @param r             the R version or snapshot date asked for ({@code 4.3}, {@code 2023-10-01}), if any
 * @param julia         the Julia version asked for ({@code 1.9}), if any
 * @param packages      what the main file lists (requirements, conda dependencies, Julia or Pipfile packages)
 * @param aptPackages   Debian/Ubuntu packages from {@code apt.txt}, validated
 * @param postBuild     the {@code postBuild} script, relative to the repository root, if any
 * @param start         the {@code start} script, relative to the repository root, if any
 * @param installPackage whether the repository itself is installed ({@code pip install -e .}: root {@code setup.py}
 *                      or {@code pyproject.toml} without a binder folder)
 * @param s2iBuilder    the source-to-image builder image, for {@code s2i}
 * @param warnings      things the user should know (ignored files, unusual choices)
 * @param rSnapshot     the CRAN snapshot date {@code runtime.txt} names ({@code r-4.3-2023-10-01} → {@code 2023-10-01}),
 *                      also when it names an R version
 */
public record BuildPlan(String buildpack, String configDir, List<String> files, Optional<String> python,
                        Optional<String> r, Optional<String> julia, List<String> packages, List<String> aptPackages,
                        Optional<String> postBuild, Optional<String> start, boolean installPackage,
                        Optional<String> s2iBuilder, List<String> warnings, Optional<String> rSnapshot) {

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
}
