package dev.ferry.launch;

import dev.ferry.repo.RepoSpec;

/**
 * A request to launch a repository.
 *
 * @param spec       the repository and ref from the link
 * @param publicBase Ferry's address as the visitor reaches it ({@code https://host[:port]}, no trailing slash), for
 *                   the absolute {@code url} of the {@code ready} event
 * @param clientIp   the visitor's address ({@code binder_client_ip})
 * @param buildOnly  build (or find) the environment and stop there, without a session
 * @param origin     the page origin that asked (for launch events), or the host when there is none
 * @param buildToken whether a launch page's build token let the launch past the rate limit (for launch events)
 * @param seats      where the session's seat comes from; null: the capacity quota (a workshop attendee's launch: the
 *                   workshop's pool or reservation)
 */
public record LaunchRequest(
        RepoSpec spec,
        String publicBase,
        String clientIp,
        boolean buildOnly,
        String origin,
        boolean buildToken,
        SeatSource seats) {

    public LaunchRequest(
            RepoSpec spec, String publicBase, String clientIp, boolean buildOnly, String origin, boolean buildToken) {
        this(spec, publicBase, clientIp, buildOnly, origin, buildToken, null);
    }

    public LaunchRequest(RepoSpec spec, String publicBase, String clientIp) {
        this(spec, publicBase, clientIp, false, "", false);
    }
}
