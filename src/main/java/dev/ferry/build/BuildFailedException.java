package dev.ferry.build;

import dev.ferry.FerryException;

/** A build that did not produce an environment; the message says which step failed and what to check. */
public class BuildFailedException extends FerryException {

    public BuildFailedException(int status, String message) {
        super(status, message);
    }

    public BuildFailedException(int status, String message, Throwable cause) {
        super(status, message, cause);
    }
}
