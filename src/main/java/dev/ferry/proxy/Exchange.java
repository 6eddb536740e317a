package dev.ferry.proxy;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * One request on a {@link VisitorConnection} and its answer: what the visitor asked, where it goes, and how far it
 * has got. A new one per request, so nothing of the last request's progress can be left over; used only on the
 * visitor's event loop.
 */
final class Exchange {

    /** The visitor's request head (changed in place for its server once written). */
    final HttpRequest head;
    /** What the visitor's request said before it was changed for its server. */
    final boolean visitorKeepAlive;

    final boolean visitorHttp10;
    final boolean headRequest;
    /** A WebSocket upgrade the front door tunnels if its server agrees (one pipelined behind another goes on plain). */
    final boolean upgrade;
    /** The session whose server answers; null: the portal answers (also when the session ended meanwhile). */
    Route route;

    boolean headWritten;
    /** The request's body goes to its server in chunks. */
    boolean requestChunked;
    /** Some of the visitor's body has gone to the server: the request cannot be replayed. */
    boolean bodyWritten;
    /** The whole request has gone to the server. */
    boolean bodyEnded;
    /** The server has sent something (anything) for this exchange. */
    boolean received;
    /** The response head has gone to the visitor: a failure now can only cut the response short. */
    boolean responseStarted;
    /** The connection closes after this response. */
    boolean closeAfter;
    /** Sent once more after its server failed (on a new connection, or to the portal when the session ended). */
    boolean replayed;
    /** The server said nothing for the read timeout. */
    boolean timedOut;

    Exchange(HttpRequest head, boolean upgrade, Route route) {
        this.head = head;
        this.visitorHttp10 = head.protocolVersion().equals(HttpVersion.HTTP_1_0);
        this.visitorKeepAlive = HttpUtil.isKeepAlive(head);
        this.headRequest = head.method().equals(HttpMethod.HEAD);
        this.upgrade = upgrade;
        this.route = route;
    }

    /** Marks the session as in use (idle culling counts from its last activity). */
    void touch() {
        if (route != null) {
            route.touch();
        }
    }

    /**
     * Whether the request may be sent once more after its server (a session's, or the portal's) failed: not sent at
     * all, or sent on a kept connection the server closed without answering, and nothing of the visitor's body is lost.
     * A request sent may have been acted on before the close, so only one that may be repeated goes again (RFC 9110
     * 9.2.2). The portal too: Tomcat closes a kept connection at its keep-alive timeout, which starts a moment before
     * the door's for the same visitor, so a request arriving in between meets a closing connection.
     */
    boolean mayReplay(boolean connected, boolean reusedConnection) {
        return !replayed
                && !timedOut
                && !bodyWritten
                && (!connected
                        || (reusedConnection
                                && !received
                                && SessionPaths.idempotent(head.method().name())));
    }
}
