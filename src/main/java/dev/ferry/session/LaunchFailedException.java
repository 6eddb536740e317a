package dev.ferry.session;

import dev.ferry.FerryException;

/** A notebook server that could not be started, or a launch that could not proceed. */
public class LaunchFailedException extends FerryException {

    public LaunchFailedException(int status, String message) {
        super(status, message);
    }

    public LaunchFailedException(int status, String message, Throwable cause) {
        super(status, message, cause);
    }
}
