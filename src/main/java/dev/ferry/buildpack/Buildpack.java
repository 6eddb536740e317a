package dev.ferry.buildpack;

/**
 * The repo2docker buildpack a repository is built with, chosen by {@link Detector} with repo2docker's precedence;
 * its name is the one repo2docker and the build log use.
 */
public enum Buildpack {
    S2I("s2i"),
    DOCKER("docker"),
    JULIA("julia"),
    NIX("nix"),
    R("r"),
    CONDA("conda"),
    PIPFILE("pipfile"),
    PYTHON("python");

    private final String name;

    Buildpack(String name) {
        this.name = name;
    }

    /** {@code python} or {@code pipfile}: a Python environment the repository's requirements go into with pip. */
    public boolean pip() {
        return this == PYTHON || this == PIPFILE;
    }

    @Override
    public String toString() {
        return name;
    }
}
