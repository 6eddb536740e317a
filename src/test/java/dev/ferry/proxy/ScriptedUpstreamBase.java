package dev.ferry.proxy;

import java.io.IOException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * What the proxy tests against a {@link ScriptedUpstream} share: Ferry's port, and a scripted server routed as the
 * session {@link #session()} for each test, removed after it.
 */
abstract class ScriptedUpstreamBase {

    @LocalServerPort
    int port;

    @Autowired
    RouteTable routes;

    ScriptedUpstream upstream;

    /** The session id the scripted server is routed as. */
    abstract String session();

    /** A visitor's connection to Ferry, whose reads fail the test after 20 s. */
    java.net.Socket visitor() throws IOException {
        java.net.Socket s = new java.net.Socket("127.0.0.1", port);
        s.setSoTimeout(20_000);
        return s;
    }

    @BeforeEach
    void startUpstream() throws IOException {
        upstream = new ScriptedUpstream(routes, session());
    }

    @AfterEach
    void stopUpstream() throws IOException {
        upstream.close(); // the route goes with it
    }
}
