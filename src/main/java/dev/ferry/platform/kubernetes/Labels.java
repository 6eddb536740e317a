package dev.ferry.platform.kubernetes;

import java.util.Locale;

import dev.ferry.Hashes;

/** The labels and annotations Ferry puts on what it creates, and the names it gives it. */
final class Labels {

    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String FERRY = "ferry";
    static final String COMPONENT = "app.kubernetes.io/component";
    static final String SESSION_COMPONENT = "session";
    static final String BUILD_COMPONENT = "build";
    static final String SESSION = "ferry.dev/session";
    static final String BUILD = "ferry.dev/build";
    static final String REPO = "ferry.dev/repo";
    /** On a workshop's sessions (its pool and its attendees'), and on the ConfigMap that keeps the workshop. */
    static final String WORKSHOP = "ferry.dev/workshop";

    static final String WORKSHOP_COMPONENT = "workshop";

    static final String A_PROVIDER = "ferry.dev/provider";
    static final String A_SPEC = "ferry.dev/spec";
    static final String A_SHOWN_SPEC = "ferry.dev/shown-spec";
    static final String A_REPO_URL = "ferry.dev/repo-url";
    static final String A_REF = "ferry.dev/ref";
    static final String A_RESOLVED_SPEC = "ferry.dev/resolved-spec";
    static final String A_FETCH_REF = "ferry.dev/fetch-ref";
    static final String A_REF_URL = "ferry.dev/ref-url";
    static final String A_COMMIT = "ferry.dev/commit";
    static final String A_IMAGE = "ferry.dev/image";
    static final String A_CREATED = "ferry.dev/created";
    static final String A_LAST_ACTIVITY = "ferry.dev/last-activity";
    static final String A_ORIGINS = "ferry.dev/allowed-origins";
    static final String A_END_REASON = "ferry.dev/end-reason";
    /** When the launch saw the session's Pod Ready first: the janitor never removes a Pod that has been Ready. */
    static final String A_READY_AT = "ferry.dev/ready-at";
    /** On a workshop session handed to an attendee: a digest of the attendee's cookie; absent while it is pooled. */
    static final String A_ATTENDEE = "ferry.dev/attendee";

    static final String SESSIONS_SELECTOR = MANAGED_BY + "=" + FERRY;
    static final String WORKSHOPS_SELECTOR = MANAGED_BY + "=" + FERRY + "," + COMPONENT + "=" + WORKSHOP_COMPONENT;

    private Labels() {}

    static String podName(String sessionId) {
        return "ferry-" + sessionId;
    }

    /** A label value: at most 63 characters of {@code [a-z0-9-.]}, starting and ending alphanumeric. */
    static String labelValue(String text) {
        String v = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]+", "-");
        if (v.length() > 63) {
            v = v.substring(v.length() - 63);
        }
        return v.replaceAll("^[^a-z0-9]+|[^a-z0-9]+$", "");
    }

    /**
     * The build Job's name for an image: {@code ferry-build-<readable part>-<10 hex of the key's hash>}, at most 52
     * characters (a Job's pods get a 5-character suffix and a label value must stay within 63), DNS-safe, and the same
     * on every portal replica — so a second replica creating it gets 409 and attaches to the build.
     */
    static String jobName(String keyId, String slug) {
        String readable = slug.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
        // the slug ends with 8 hex of the URL's hash; drop it, the name carries its own hash of URL and commit
        readable = readable.replaceAll("-[0-9a-f]{8}$", "");
        if (readable.length() > 29) {
            readable = readable.substring(readable.length() - 29);
        }
        readable = readable.replaceAll("^-+|-+$", "");
        return "ferry-build-" + (readable.isEmpty() ? "" : readable + "-")
                + Hashes.sha256(keyId).substring(0, 10);
    }
}
