package dev.ferry.buildpack;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How environments are turned into images ({@code ferry.buildpack.*}); used by the kubernetes platform's Dockerfiles.
 *
 * @param baseImage       the image Python, conda and Pipfile environments start from (Ubuntu with build tools)
 * @param micromambaImage where the {@code micromamba} binary is copied from
 * @param pythonVersion   the Python of environments that do not ask for one
 * @param rImage          R environments: {@code <r-image>:<version>} (rocker/r-ver tags are R versions)
 * @param juliaImage      Julia environments: {@code <julia-image>:<version>}
 * @param nixImage        Nix environments
 * @param s2iBuilder      when set, every repository is built by this source-to-image builder (repositories that bring
 *                        {@code .s2i/bin/assemble} use it too, or {@value DockerfileRenderer#DEFAULT_S2I_BUILDER})
 */
@ConfigurationProperties("ferry.buildpack")
public record BuildpackProperties(
        @DefaultValue("docker.io/library/buildpack-deps:jammy") String baseImage,
        @DefaultValue("docker.io/mambaorg/micromamba:1.5.8") String micromambaImage,
        @DefaultValue("3.11") String pythonVersion,
        @DefaultValue("docker.io/rocker/r-ver") String rImage,
        @DefaultValue("docker.io/library/julia") String juliaImage,
        @DefaultValue("docker.io/nixos/nix:2.24.9") String nixImage,
        @DefaultValue("") String s2iBuilder) {

    public static BuildpackProperties defaults() {
        return new BuildpackProperties("docker.io/library/buildpack-deps:jammy", "docker.io/mambaorg/micromamba:1.5.8",
                "3.11", "docker.io/rocker/r-ver", "docker.io/library/julia", "docker.io/nixos/nix:2.24.9", "");
    }
}
