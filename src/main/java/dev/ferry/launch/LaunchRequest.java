package dev.ferry.launch;

import dev.ferry.repo.RepoSpec;

/**
 * A request to launch a repository.
 *
 * @param spec       the repository and ref from the link
 * @param publicBase Ferry's address as the visitor reaches it ({@code https://host[:port]}, no trailing slash), for
 *                   the absolute {@code url} of the {@code ready} event
 * @param clientIp   the visitor's address ({@code binder_client_ip})
 */
public record LaunchRequest(RepoSpec spec, String publicBase, String clientIp) {
}
