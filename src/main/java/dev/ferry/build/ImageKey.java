package dev.ferry.build;

import java.net.URI;
import java.util.Locale;

import dev.ferry.Hashes;
import dev.ferry.repo.ResolvedRepo;

/**
 * Identifies one environment: a repository at a commit. Two launches with equal keys share one build.
 *
 * @param repoUrl the clone URL (may hold credentials: never shown; only its hash is part of {@link #slug()})
 * @param commit  the full commit id
 */
public record ImageKey(String repoUrl, String commit) {

    public static ImageKey of(ResolvedRepo repo) {
        return new ImageKey(repo.repoUrl(), repo.commit());
    }

    /**
     * A readable, file-name and image-name safe identifier of the repository: host and path in lowercase
     * {@code [a-z0-9-]}, at most 50 characters, then 8 hex of the URL's hash so that different URLs never collide.
     */
    public String slug() {
        String readable;
        try {
            URI uri = URI.create(repoUrl);
            readable = (uri.getHost() == null ? "" : uri.getHost()) + (uri.getPath() == null ? "" : uri.getPath());
        } catch (IllegalArgumentException e) {
            readable = "repo";
        }
        readable = readable.toLowerCase(Locale.ROOT)
                .replaceAll("\\.git$", "")
                .replaceAll("[^a-z0-9]+", "-")
                .replaceAll("^-+|-+$", "");
        if (readable.length() > 50) {
            readable = readable.substring(readable.length() - 50).replaceAll("^-+", "");
        }
        return (readable.isEmpty() ? "repo" : readable) + "-"
                + Hashes.sha256(repoUrl).substring(0, 8);
    }

    /** {@code <slug>-<commit>}: unique per key, usable as a directory name. */
    public String id() {
        return slug() + "-" + commit;
    }

    @Override
    public String toString() {
        return id();
    }
}
