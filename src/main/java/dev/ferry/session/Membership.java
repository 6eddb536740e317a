package dev.ferry.session;

/**
 * A session's place in a workshop: kept warm in its pool ({@code attendee} null) or handed to one attendee.
 *
 * @param workshop the workshop's slug
 * @param attendee a digest of the attendee's cookie (never the cookie itself), or null while the session is pooled
 */
public record Membership(String workshop, String attendee) {

    /** A warm-pool session of {@code workshop}, not handed to anybody yet. */
    public static Membership pool(String workshop) {
        return new Membership(workshop, null);
    }

    public boolean pooled() {
        return attendee == null;
    }

    /** The same session handed to {@code attendee}. */
    public Membership handedTo(String attendee) {
        return new Membership(workshop, attendee);
    }
}
