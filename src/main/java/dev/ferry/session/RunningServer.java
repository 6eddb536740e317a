package dev.ferry.session;

import java.util.concurrent.CompletableFuture;

/** A started notebook server, as its {@link SessionRuntime} reports it. */
public interface RunningServer {

    /** The address the proxy sends the session's traffic to. */
    String host();

    int port();

    /** Completes, with a sentence saying why, when the server stops by itself (crash, exit). */
    CompletableFuture<String> exited();
}
