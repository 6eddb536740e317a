package dev.ferry;

/**
 * An error whose message is a sentence a user can act on, with the HTTP status that fits it.
 * Thrown by the capability packages and mapped once by the web layer to a page or a {@code failed} event.
 * The message must never contain a stack trace, a secret or raw user input that was not sanitised.
 */
public class FerryException extends RuntimeException {

    private final int status;

    public FerryException(int status, String message) {
        super(message);
        this.status = status;
    }

    public FerryException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status that fits this error (4xx: the request, 5xx: Ferry or a server it depends on). */
    public int status() {
        return status;
    }
}
