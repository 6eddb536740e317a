package dev.ferry.buildpack;

import dev.ferry.FerryException;

/** A repository whose environment files cannot be used as they are; the message says which file and why. */
public class BuildpackException extends FerryException {

    public BuildpackException(String message) {
        super(422, message);
    }
}
