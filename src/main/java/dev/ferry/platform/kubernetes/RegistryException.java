package dev.ferry.platform.kubernetes;

import dev.ferry.FerryException;

/**
 * A container registry that cannot answer Ferry's question: unreachable, refusing Ferry's credentials, or answering
 * something unexpected. The message is a sentence an operator can act on and never holds a password or a token.
 */
public final class RegistryException extends FerryException {

    /** 502: the registry (a server Ferry depends on) answered, but not usefully. */
    public RegistryException(String message) {
        super(502, message);
    }

    /** 502 with the I/O error or similar that caused it; the cause must not carry secrets either. */
    public RegistryException(String message, Throwable cause) {
        super(502, message, cause);
    }
}
