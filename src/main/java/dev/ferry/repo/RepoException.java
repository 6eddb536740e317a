package dev.ferry.repo;

import dev.ferry.FerryException;

/** A repository that cannot be used: bad spec, refused URL, unreachable host, unknown ref. */
public class RepoException extends FerryException {

    public RepoException(int status, String message) {
        super(status, message);
    }

    public RepoException(int status, String message, Throwable cause) {
        super(status, message, cause);
    }
}
