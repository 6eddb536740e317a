package dev.ferry.buildpack;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How environments are turned into images ({@code ferry.buildpack.*}); used by the kubernetes platform's Dockerfiles.
 * The build Job's {@code prepare} step renders the Dockerfile, so these settings travel to it as environment variables
 * ({@link BuildpackEnvironment}).
 *
 * @param baseImage        the image Python, conda, Pipfile and Nix environments start from (Ubuntu with build tools,
 *                         as repo2docker's)
 * @param micromambaImage  where the {@code micromamba} binary is copied from, to create {@code /srv/conda}
 * @param environmentImage an image that already holds {@code /srv/conda} as Ferry makes it (conda and mamba, and the
 *                         {@code notebook} environment at {@code python-version} with Jupyter and Node.js); when set,
 *                         environments at the default Python copy it instead of downloading it again on every build.
 *                         Empty: {@code /srv/conda} is created from conda-forge in each build
 * @param pythonVersion    the Python of environments that do not ask for one (repo2docker's default)
 * @param rImage           R environments: {@code <r-image>:<version>} (rocker/r-ver tags are R versions)
 * @param rVersion         the R of environments that name only a snapshot date ({@code r-YYYY-MM-DD}) or a
 *                         {@code DESCRIPTION} (repo2docker's default)
 * @param juliaImage       Julia environments: {@code <julia-image>:<version>}
 * @param nixImage         where the Nix store ({@code /nix}) of Nix environments is copied from
 * @param pipenvVersion    the pipenv that installs a {@code Pipfile}: one that has {@code --skip-lock} and
 *                         {@code --ignore-pipfile} (removed from newer pipenv)
 * @param s2iBuilder       when set, every repository is built by this source-to-image builder (repositories that bring
 *                         {@code .s2i/bin/assemble} use it too, or {@value DockerfileRenderer#DEFAULT_S2I_BUILDER})
 */
@ConfigurationProperties("ferry.buildpack")
public record BuildpackProperties(
        @DefaultValue(BASE_IMAGE) String baseImage,
        @DefaultValue(MICROMAMBA_IMAGE) String micromambaImage,
        @DefaultValue("") String environmentImage,
        @DefaultValue(PYTHON_VERSION) String pythonVersion,
        @DefaultValue(R_IMAGE) String rImage,
        @DefaultValue(R_VERSION) String rVersion,
        @DefaultValue(JULIA_IMAGE) String juliaImage,
        @DefaultValue(NIX_IMAGE) String nixImage,
        @DefaultValue(PIPENV_VERSION) String pipenvVersion,
        @DefaultValue("") String s2iBuilder) {

    static final String BASE_IMAGE = "docker.io/library/buildpack-deps:jammy";
    static final String MICROMAMBA_IMAGE = "docker.io/mambaorg/micromamba:1.5.8";
    static final String PYTHON_VERSION = "3.10";
    static final String R_IMAGE = "docker.io/rocker/r-ver";
    static final String R_VERSION = "4.4";
    static final String JULIA_IMAGE = "docker.io/library/julia";
    static final String NIX_IMAGE = "docker.io/nixos/nix:2.24.9";
    static final String PIPENV_VERSION = "2022.1.8";

    public BuildpackProperties {
        baseImage = orDefault(baseImage, BASE_IMAGE);
        micromambaImage = orDefault(micromambaImage, MICROMAMBA_IMAGE);
        environmentImage = environmentImage == null ? "" : environmentImage.strip();
        pythonVersion = orDefault(pythonVersion, PYTHON_VERSION);
        rImage = orDefault(rImage, R_IMAGE);
        rVersion = orDefault(rVersion, R_VERSION);
        juliaImage = orDefault(juliaImage, JULIA_IMAGE);
        nixImage = orDefault(nixImage, NIX_IMAGE);
        pipenvVersion = orDefault(pipenvVersion, PIPENV_VERSION);
        s2iBuilder = s2iBuilder == null ? "" : s2iBuilder.strip();
    }

    public static BuildpackProperties defaults() {
        return new BuildpackProperties(null, null, null, null, null, null, null, null, null, null);
    }

    private static String orDefault(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value.strip();
    }
}
