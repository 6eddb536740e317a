package dev.ferry.platform.kubernetes;

import java.net.URI;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The registry that built images are pushed to and pulled from ({@code ferry.registry.*}).
 *
 * @param prefix   image names are {@code <prefix><repository slug>:<commit>}, e.g. {@code registry.example.org/ferry/}
 * @param url      the registry's API, for the "already built?" check; empty: {@code https://<host of prefix>}
 *                 ({@code http://} when {@code insecure})
 * @param insecure the registry speaks plain HTTP (an in-cluster registry on a development cluster)
 * @param username for the check; empty: anonymous
 * @param password for the check (set it from a Secret, e.g. the environment variable
 *                 {@code FERRY_REGISTRY_PASSWORD}); never logged
 */
@ConfigurationProperties("ferry.registry")
public record RegistryProperties(
        @DefaultValue("") String prefix,
        @DefaultValue("") String url,
        @DefaultValue("false") boolean insecure,
        @DefaultValue("") String username,
        @DefaultValue("") String password) {

    /** {@code <prefix><slug>:<commit>}. */
    public String image(String slug, String commit) {
        return normalizedPrefix() + slug + ":" + commit;
    }

    String normalizedPrefix() {
        if (prefix.isBlank()) {
            throw new IllegalStateException("ferry.registry.prefix is not set: the kubernetes platform pushes built "
                    + "images to a registry. Set it to where they go, e.g. registry.example.org/ferry/.");
        }
        return prefix.endsWith("/") ? prefix : prefix + "/";
    }

    /** The registry's API base URL. */
    public URI apiUrl() {
        if (!url.isBlank()) {
            return URI.create(url.replaceAll("/+$", ""));
        }
        String host = normalizedPrefix().substring(0, normalizedPrefix().indexOf('/'));
        if (host.equals("docker.io") || host.equals("index.docker.io")) {
            return URI.create("https://registry-1.docker.io"); // Docker Hub's API lives elsewhere than its name
        }
        return URI.create((insecure ? "http://" : "https://") + host);
    }

    /** The repository part of an image name within the registry ({@code ferry/<slug>}). */
    public String repository(String slug) {
        String p = normalizedPrefix();
        return p.substring(p.indexOf('/') + 1) + slug;
    }

    @Override
    public String toString() {
        return "RegistryProperties[prefix=" + prefix + ", url=" + url + ", insecure=" + insecure + ", username="
                + username + ", password=" + (password.isEmpty() ? "" : "***") + "]";
    }
}
