package dev.ferry.session;

import java.util.List;
import java.util.Map;

import dev.ferry.build.Environment;
import dev.ferry.repo.ResolvedRepo;

/**
 * What a {@link SessionRuntime} needs to start one notebook server.
 *
 * @param id          the session id (the server's base URL is {@code /user/<id>/})
 * @param token       the server's token
 * @param repo        the repository and commit
 * @param environment the built environment
 * @param binderEnv   the {@code BINDER_*} environment variables BinderHub sets in the server
 * @param allowedOrigins page origins the server must accept for REST and WebSocket calls ({@code *} for any)
 * @param membership  the workshop the session is started for (its pool or an attendee), or null
 */
public record SessionSpec(
        String id,
        String token,
        ResolvedRepo repo,
        Environment environment,
        Map<String, String> binderEnv,
        List<String> allowedOrigins,
        Membership membership) {

    /** A session of nobody's workshop. */
    public SessionSpec(
            String id,
            String token,
            ResolvedRepo repo,
            Environment environment,
            Map<String, String> binderEnv,
            List<String> allowedOrigins) {
        this(id, token, repo, environment, binderEnv, allowedOrigins, null);
    }

    public String baseUrl() {
        return "/user/" + id + "/";
    }

    @Override
    public String toString() {
        return "session " + id + " of " + repo;
    }
}
