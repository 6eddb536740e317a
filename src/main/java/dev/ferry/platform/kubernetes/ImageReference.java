package dev.ferry.platform.kubernetes;

import java.net.URI;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A container image name split the way Docker splits it: {@code [host[:port]/]path/name[:tag][@digest]}.
 *
 * @param registry   the registry's host and optional port ({@value #DOCKER_HUB} for Docker Hub names)
 * @param repository the repository path inside the registry, e.g. {@code library/python} or {@code demo/hello}
 * @param tag        the tag, or the digest ({@code sha256:…}) when the name pins one; {@code latest} when the name
 *                   has neither
 */
public record ImageReference(String registry, String repository, String tag) {

    /** Where names without a registry part live, and the host Docker Hub's registry API answers on. */
    public static final String DOCKER_HUB = "registry-1.docker.io";

    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final String HOST_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    static final Pattern REPOSITORY = Pattern.compile(COMPONENT + "(?:/" + COMPONENT + ")*");
    static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}");
    private static final Pattern REGISTRY =
            Pattern.compile("(?:" + HOST_LABEL + "(?:\\." + HOST_LABEL + ")*|\\[[a-fA-F0-9:.]+\\])(?::[0-9]{1,5})?");
    private static final int MAX_REPOSITORY_LENGTH = 255;

    public ImageReference {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(tag, "tag");
        if (!REGISTRY.matcher(registry).matches()) {
            throw new IllegalArgumentException("'" + registry + "' is not a valid registry host: expected a host name "
                    + "or IP address with an optional :port.");
        }
        checkRepository(repository, repository);
        if (!TAG.matcher(tag).matches() && !DIGEST.matcher(tag).matches()) {
            throw new IllegalArgumentException(
                    "'" + tag + "' is not a valid tag or digest: a tag is up to 128 letters, "
                            + "digits, '_', '.' and '-' (not starting with '.' or '-'); a digest is sha256: and 64 hex digits.");
        }
    }

    /**
     * Parses an image name as Docker does. The first path part is a registry host when it contains a dot or a colon
     * or is {@code localhost}; otherwise the name is on Docker Hub, where single-part names get the {@code library/}
     * prefix. A digest ({@code @sha256:…}) wins over a tag.
     *
     * @throws IllegalArgumentException with a sentence saying what is wrong with the name
     */
    public static ImageReference parse(String image) {
        if (image == null || image.isBlank()) {
            throw new IllegalArgumentException(
                    "The image name is empty; expected something like " + "registry.example.org/group/name:tag.");
        }
        String name = image;
        String digest = null;
        int at = name.indexOf('@');
        if (at >= 0) {
            digest = name.substring(at + 1);
            name = name.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                throw invalid(image, "the digest after '@' must be sha256: followed by 64 lowercase hex digits");
            }
        }
        String tag = null;
        int colon = name.lastIndexOf(':');
        if (colon > name.lastIndexOf('/')) {
            tag = name.substring(colon + 1);
            name = name.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw invalid(
                        image,
                        "the tag '" + tag + "' must be up to 128 letters, digits, '_', '.' and '-', "
                                + "not starting with '.' or '-'");
            }
        }
        String registry = DOCKER_HUB;
        String repository = name;
        int slash = name.indexOf('/');
        if (slash >= 0) {
            String first = name.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                registry = first;
                repository = name.substring(slash + 1);
                if (!REGISTRY.matcher(registry).matches()) {
                    throw invalid(
                            image,
                            "the registry part '" + registry + "' is not a host name or IP address "
                                    + "with an optional :port");
                }
            }
        }
        if (registry.equals("docker.io") || registry.equals("index.docker.io")) {
            registry = DOCKER_HUB;
        }
        if (repository.isEmpty()) {
            throw invalid(image, "the repository part after the registry is missing");
        }
        if (registry.equals(DOCKER_HUB) && repository.indexOf('/') < 0) {
            repository = "library/" + repository;
        }
        checkRepository(repository, image);
        return new ImageReference(registry, repository, digest != null ? digest : tag != null ? tag : "latest");
    }

    /** The registry's base URL: {@code https://host[:port]}, or {@code http://} for a registry without TLS. */
    public URI registryUrl(boolean insecure) {
        return URI.create((insecure ? "http" : "https") + "://" + registry);
    }

    /** Whether {@link #tag()} is a digest rather than a tag. */
    public boolean pinsDigest() {
        return DIGEST.matcher(tag).matches();
    }

    /** The full name, {@code registry/repository:tag} or {@code registry/repository@digest}. */
    @Override
    public String toString() {
        return registry + "/" + repository + (pinsDigest() ? "@" : ":") + tag;
    }

    private static void checkRepository(String repository, String image) {
        if (repository.length() > MAX_REPOSITORY_LENGTH) {
            throw invalid(image, "the repository part is longer than " + MAX_REPOSITORY_LENGTH + " characters");
        }
        if (!REPOSITORY.matcher(repository).matches()) {
            throw invalid(
                    image,
                    "the repository part '" + repository + "' must be lowercase letters and digits, "
                            + "with '.', '_', '__' or '-' only between them, in parts separated by single '/'");
        }
    }

    private static IllegalArgumentException invalid(String image, String why) {
        return new IllegalArgumentException("'" + image + "' is not a valid image name: " + why + ".");
    }
}
