package dev.ferry.proxy;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import dev.ferry.Durations;

/**
 * One visitor's connection to the {@link FrontDoor}, and the connection to the server its current request goes to: a
 * session's notebook server, or the servlet container (the portal). Everything runs on the visitor's event loop, the
 * server connection included, so the state below needs no locks.
 *
 * <p>Requests are taken one at a time: a request that arrives while another is answered waits in {@link #queue}, and
 * the visitor is not read meanwhile. A server connection is kept while the visitor's requests go to the same server.
 * A request that could not be sent, or whose server closed a kept connection without answering and that lost no body
 * byte and may be repeated (RFC 9110 9.2.2), is sent once more on a new connection; failing again, the front door
 * answers 502/504 with a sentence ({@link SessionPaths}). A session that ended meanwhile, or that neither the route
 * table nor the platform knows, goes to the portal, which says so ({@link SessionGoneController}).
 */
final class VisitorConnection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(VisitorConnection.class);
    static final String CODEC = "http";
    static final String ENCODER = "encoder";
    static final String IDLE = "idle";
    static final String HANDLER = "visitor";
    private static final byte[] LAST_CHUNK = ascii("0\r\n");
    private static final short CRLF = ResponseReader.CRLF;
    private static final byte[] CONNECTION_CLOSE = ascii("Connection: close\r\n");
    private static final byte[] CONNECTION_KEEP_ALIVE = ascii("Connection: keep-alive\r\n");
    private static final byte[] CRLF_BYTES = ascii("\r\n");
    private static final byte[] UPGRADED = ascii("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    /** Plain static files the "session ended" page uses: no script, harmless on a session host. */
    private static final Set<String> SHARED_STATIC = Set.of("/ferry.css", "/favicon.svg");

    private final FrontDoor door;
    private Channel visitor;
    private ChannelHandlerContext rawOut;
    /** What the visitor sent that has not gone on yet: request heads, body parts, and (after an upgrade) raw bytes. */
    private final ArrayDeque<Object> queue = new ArrayDeque<>();

    private Channel upstream;
    /** What reads {@link #upstream}'s responses. */
    private ResponseReader reader;
    /** Where {@link #upstream} goes: a session server's host and port, or the portal (host null, port -1). */
    private String upstreamHost;

    private int upstreamPort = -1;
    private boolean upstreamDone;
    /** The server connection at hand has carried an exchange before this one. */
    private boolean upstreamReused;

    private State state = State.HTTP;
    /** The request being answered; null between requests (and in a tunnel). */
    private Exchange exchange;
    /** The session a tunnel goes to (null: the portal's). */
    private Route tunnelRoute;
    /** When the visitor last stopped taking what is written to it. */
    private long unwritableSince;
    /** The visitor's HTTP decoder was taken out after an upgrade request: what follows is raw bytes. */
    private boolean decoderRemoved;

    private boolean wrote;
    private int requests;
    private RequestHeadWriter.Visitor from;

    /** What the connection is doing; which request it answers is {@link #exchange}. */
    private enum State {
        /** Reading requests and answering them one at a time (or waiting for the next). */
        HTTP,
        /** The current request waits for its server connection to open. */
        CONNECTING,
        /** After a 101: bytes are copied both ways as they are. */
        TUNNEL,
        /** Ending: nothing more is read, sent or answered. */
        CLOSING
    }

    VisitorConnection(FrontDoor door) {
        this.door = door;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        visitor = ctx.channel();
        super.channelActive(ctx);
    }

    // ---------------------------------------------------------------------------------------------- visitor side

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSING) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (state == State.TUNNEL) {
            relay((ByteBuf) msg, upstream);
            return;
        }
        if (decoderRemoved && msg instanceof HttpContent) {
            ReferenceCountUtil.release(msg); // the empty end of the upgrade request, sent with its head
            return;
        }
        if (msg instanceof HttpContent content && !content.decoderResult().isSuccess()) {
            ReferenceCountUtil.release(msg); // (Netty reads nothing more of this connection)
            badBody(content.decoderResult().cause());
            return;
        }
        if (msg instanceof HttpRequest request) {
            if (!request.decoderResult().isSuccess()) {
                ReferenceCountUtil.release(msg);
                refuse(request.decoderResult().cause());
                return;
            }
            if (isWebSocketUpgrade(request) && !hasBody(request) && exchange == null && queue.isEmpty()) {
                // Stop reading HTTP now: what the visitor sends after this head belongs to the tunnel, if there is one.
                // (Taking the decoder out hands its unread bytes on at once, so the head is queued first.)
                decoderRemoved = true;
                queue.add(msg);
                ctx.pipeline().remove(CODEC);
                drain();
                return;
            }
        }
        queue.add(msg);
        drain();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upstream != null && state != State.CONNECTING) {
            upstream.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!visitor.isWritable()) {
            unwritableSince = System.nanoTime();
        }
        if (upstream != null) { // a connection still opening too: it starts reading only if the visitor can take it
            upstream.config().setAutoRead(visitor.isWritable());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof VisitorRequestDecoder.HeadTimeout timeout) {
            headTimedOut(ctx, timeout.partial());
        } else if (!(evt instanceof IdleStateEvent)) {
            ctx.fireUserEventTriggered(evt);
        } else if (idle()) {
            if (door.settings().keepAliveTimeout().toMillis() > 0) {
                ctx.close(); // a kept-alive connection left idle (none is with a keep-alive timeout of 0 or less)
            }
        } else if (exchange != null
                && !exchange.bodyEnded
                && ctx.channel().config().isAutoRead()) {
            ctx.close(); // a request body that stopped coming (its server's side is closed with it)
        } else if (exchange != null
                && exchange.responseStarted
                && !visitor.isWritable()
                && System.nanoTime() - unwritableSince
                        > door.settings().readTimeout().toNanos()) {
            ctx.close(); // a visitor that stopped taking the response for as long as a server may stay silent
        }
    }

    /**
     * A request head did not arrive in full within the request-head timeout (the decoder reads nothing more). Nothing
     * of it has gone anywhere: the visitor gets 408 if it had begun one (a connection that never sent a byte is just
     * closed, as browsers expect of unused connections); a response under way for an earlier request ends first.
     */
    private void headTimedOut(ChannelHandlerContext ctx, boolean partial) {
        if (state == State.CLOSING) {
            return; // (a connection lingering after its last answer)
        }
        door.metrics().headTimedOut();
        if (exchange != null) {
            releaseAfterCurrentBody();
            exchange.closeAfter = true;
        } else if (partial) {
            answer(
                    HttpResponseStatus.REQUEST_TIMEOUT,
                    "The request's headers did not arrive within "
                            + Durations.human(door.settings().requestHeadTimeout())
                            + ". Check your connection and try again.");
        } else {
            closing();
            releaseQueue();
            ctx.close();
        }
    }

    /** During a graceful shutdown: closes the connection now if nothing is under way on it. */
    void closeIfIdle() {
        if (idle()) {
            visitor.close();
        }
    }

    /** No request under way or waiting, and no tunnel. */
    private boolean idle() {
        return exchange == null
                && queue.isEmpty()
                && state != State.TUNNEL; // (an exchange is under way while connecting)
    }

    /**
     * Ends the connection once its last answer went out (or failed to): the server's connection at once, the visitor's
     * after a linger, so that what the visitor is still sending (the body of a request answered early) does not turn
     * the close into a reset that destroys the answer before the visitor reads it.
     */
    private void closeAfterAnswer(Future<? super Void> written) {
        dropUpstream();
        if (written.isSuccess()) {
            door.lingerThenClose(visitor);
        } else {
            visitor.close();
        }
    }

    /** From now on nothing more is read, sent or answered; a tunnel ends here. */
    private void closing() {
        if (state == State.TUNNEL) {
            door.metrics().webSocketClosed();
        }
        state = State.CLOSING;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing();
        endExchange();
        releaseQueue();
        if (upstream != null) {
            upstream.close(); // an upload under way is aborted; a tunnel ends on both sides
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("visitor connection {}: {}", ctx.channel(), cause.toString(), cause);
        ctx.close();
    }

    /** Sends on what can go: request heads when no other is answered, their bodies once connected, tunnel bytes. */
    private void drain() {
        while (!queue.isEmpty() && state != State.CLOSING) {
            Object next = queue.peek();
            if (next instanceof HttpRequest request) {
                if (exchange != null) {
                    break;
                }
                queue.poll();
                begin(request);
                if (state == State.CONNECTING) {
                    break;
                }
                wrote = true;
            } else if (next instanceof HttpContent content) {
                Exchange x = exchange;
                if (x == null) {
                    ReferenceCountUtil.release(queue.poll()); // the rest of a request already answered
                    continue;
                }
                if (state == State.CONNECTING || !x.headWritten) {
                    break;
                }
                queue.poll();
                int n = content.content().readableBytes();
                if (n > 0) {
                    door.metrics().bytes(n);
                    x.touch();
                }
                x.bodyWritten |= n > 0;
                writeBody(content);
                if (content instanceof LastHttpContent) {
                    requestSent();
                }
                wrote = true;
            } else {
                if (state != State.TUNNEL) {
                    break; // bytes after an upgrade request: they wait for the server's 101
                }
                relay((ByteBuf) queue.poll(), upstream);
                wrote = true;
            }
        }
        if (wrote && upstream != null && state != State.CONNECTING) {
            wrote = false;
            upstream.flush();
        }
        updateReading();
    }

    private void updateReading() {
        if (visitor != null && state != State.CLOSING) {
            visitor.config()
                    .setAutoRead(queue.isEmpty()
                            && state != State.CONNECTING
                            && (upstream == null || upstream.isWritable()));
        }
    }

    private void begin(HttpRequest request) {
        String uri = request.uri();
        SessionHosts hosts = door.sessionHosts();
        String host = hosts.enabled() ? hostName(request.headers().get(HttpHeaderNames.HOST)) : null;
        boolean onSessionHost = hosts.isSessionHost(host);
        String hostSession = onSessionHost ? hosts.sessionIdOf(host) : null;
        // per-session origins: a session is served on its own host only (the portal sends old links there)
        String sessionId =
                !hosts.enabled() ? sessionIn(uri, null) : hostSession != null ? sessionIn(uri, hostSession) : null;
        // an upgrade request pipelined behind another goes on as a plain request
        exchange = new Exchange(
                request,
                decoderRemoved,
                sessionId == null ? null : door.routes().held(sessionId));
        door.exchangeStarted();
        if (sessionId != null && !SessionPaths.relayable(pathOf(uri))) {
            answer(HttpResponseStatus.BAD_REQUEST, SessionPaths.NOT_ACCEPTED);
            return;
        }
        if (onSessionHost && sessionId == null && !toPortalFromSessionHost(uri, hostSession)) {
            return;
        }
        if (HttpUtil.is100ContinueExpected(request)) {
            // the visitor waits for this before sending its body; the server does not see the expectation
            request.headers().remove(HttpHeaderNames.EXPECT);
            visitor.writeAndFlush(new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
        }
        requests++;
        exchange.touch();
        if (sessionId != null && exchange.route == null) {
            resolve(sessionId);
            return;
        }
        sendHead();
    }

    /**
     * A session the route table does not hold yet (another replica may have started it a moment ago): the platform is
     * asked off the event loop, which must not wait; meanwhile the request waits like one whose connection opens.
     * Unknown still: the portal answers (no session here, or why it ended).
     */
    private void resolve(String sessionId) {
        Exchange x = exchange;
        state = State.CONNECTING;
        updateReading();
        door.resolver().offLoop(() -> door.routes().get(sessionId), visitor.eventLoop(), route -> {
            if (exchange != x || state == State.CLOSING) {
                return;
            }
            state = State.HTTP;
            x.route = route;
            x.touch();
            sendHead();
            if (state != State.CONNECTING) {
                drain();
            }
        });
    }

    /** Sends the current request's head to its server, connecting first when the connection at hand goes elsewhere. */
    private void sendHead() {
        Route route = exchange.route;
        String host = route == null ? null : route.host();
        int port = route == null ? -1 : route.port();
        if (upstream != null
                && !upstreamDone
                && upstream.isActive()
                && port == upstreamPort
                && Objects.equals(host, upstreamHost)) {
            upstreamReused = true;
            writeHead();
            return;
        }
        dropUpstream();
        upstreamHost = host;
        upstreamPort = port;
        upstreamDone = false;
        upstreamReused = false;
        state = State.CONNECTING;
        boolean toSession = route != null;
        SocketAddress target =
                route == null ? door.portal() : InetSocketAddress.createUnresolved(route.host(), route.port());
        ResponseReader responses = new ResponseReader();
        Bootstrap bootstrap = new Bootstrap()
                .group(visitor.eventLoop())
                .channel(door.socketType())
                .resolver(door.resolver())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        door.settings().connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, FrontDoor.ALLOCATOR)
                .option(ChannelOption.AUTO_READ, visitor.isWritable())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(CODEC, responses);
                        if (toSession) {
                            // a session's server has the read timeout; the portal's event streams are long and quiet
                            ch.pipeline()
                                    .addLast(
                                            IDLE,
                                            new IdleStateHandler(
                                                    door.settings()
                                                            .readTimeout()
                                                            .toMillis(),
                                                    0,
                                                    0,
                                                    TimeUnit.MILLISECONDS));
                        }
                        ch.pipeline().addLast(HANDLER, new ServerSide());
                    }
                });
        ChannelFuture connect = bootstrap.connect(target);
        Channel attempt = connect.channel();
        upstream = attempt;
        reader = responses;
        connect.addListener((ChannelFutureListener) f -> {
            if (upstream != attempt || state == State.CLOSING) {
                return;
            }
            state = State.HTTP;
            if (f.isSuccess()) {
                writeHead();
                drain();
            } else {
                upstreamFailed(false);
            }
        });
    }

    private void writeHead() {
        Exchange x = exchange;
        reader.expectAnswerTo(x.headRequest);
        RequestHeadWriter.Visitor from = visitorInfo();
        upstream.write(
                x.route == null
                        ? door.heads().toPortal(x.head, x.upgrade, from, upstream.alloc())
                        : door.heads().toSession(x.head, x.upgrade, from, upstream.alloc()));
        x.requestChunked = HttpUtil.isTransferEncodingChunked(x.head);
        x.headWritten = true;
        wrote = true;
        if (x.bodyEnded || x.upgrade) {
            // an upgrade request has no body; a replayed request's (empty) body had already been sent
            writeBody(LastHttpContent.EMPTY_LAST_CONTENT);
            requestSent();
        }
    }

    /** A part of the request's body for its server: as it came, or (for a chunked request) as a chunk. */
    private void writeBody(HttpContent content) {
        ByteBuf data = content.content();
        if (!exchange.requestChunked) {
            if (data.isReadable()) {
                upstream.write(data);
            } else {
                content.release();
            }
            return;
        }
        int n = data.readableBytes();
        if (n > 0) {
            ByteBuf size = upstream.alloc().buffer(10);
            ResponseReader.writeChunkSize(size, n);
            upstream.write(size);
            upstream.write(data);
            upstream.write(Unpooled.wrappedBuffer(CRLF_BYTES));
        } else {
            content.release();
        }
        if (content instanceof LastHttpContent) {
            // The visitor's trailer fields are not passed on: nothing of Jupyter's uses them, and a server that merges
            // them into the head would take an X-Forwarded-For from there
            ByteBuf end = upstream.alloc().buffer(8);
            end.writeBytes(LAST_CHUNK);
            end.writeShort(CRLF);
            upstream.write(end);
        }
    }

    /**
     * The session a request's path names ({@code <context>/user/<id>/…}), which the front door relays itself; null:
     * the portal answers (not a session path, or no slash after the id: it redirects or answers 404).
     * {@code only}: the one session this host serves (per-session origins), or null: any.
     */
    private String sessionIn(String uri, String only) {
        String prefix = door.settings().contextPath() + SessionPaths.PREFIX;
        if (!uri.startsWith(prefix)) {
            return null;
        }
        String path = pathOf(uri);
        int slash = path.indexOf('/', prefix.length());
        if (slash <= prefix.length()) {
            return null;
        }
        if (only != null && (slash - prefix.length() != only.length() || !uri.startsWith(only, prefix.length()))) {
            return null; // another session's path on a session's own host
        }
        return path.substring(prefix.length(), slash);
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    /**
     * On a session's own host ({@code <id>.<domain>}), a request that is not for a path of the session: only the
     * session's bare path (the portal adds the slash) and the plain static files of the "session ended" page go on to
     * the portal; {@code /} is sent to the session's path; everything else — the
     * portal's pages, other sessions, paths with tricks — is refused here, so script from a repository reaches neither.
     * Returns whether the request goes on to the portal.
     */
    private boolean toPortalFromSessionHost(String uri, String sessionId) {
        String context = door.settings().contextPath();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String own = context + SessionPaths.PREFIX + sessionId;
        if (sessionId != null && path.equals(context + "/")) {
            answerRedirect(own + "/" + (q < 0 ? "" : uri.substring(q)));
            return false;
        }
        if (sessionId != null && path.equals(own) // (the portal adds the slash)
                || SHARED_STATIC.contains(path.substring(Math.min(path.length(), context.length())))
                        && path.startsWith(context)) {
            return true;
        }
        answer(
                HttpResponseStatus.NOT_FOUND,
                "This address serves one notebook session only. Ferry's pages and other "
                        + "sessions are not reachable here.");
        return false;
    }

    /** The host name of a Host header (without its port), or null. */
    private static String hostName(String host) {
        if (host == null) {
            return null;
        }
        int colon = host.lastIndexOf(':');
        return colon > host.lastIndexOf(']') ? host.substring(0, colon) : host;
    }

    /** Sends the visitor elsewhere with a 302 (an empty body), then closes the connection. */
    private void answerRedirect(String location) {
        FullHttpResponse response =
                new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FOUND, Unpooled.EMPTY_BUFFER);
        response.headers()
                .set("Location", location)
                .set("Cache-Control", "no-store")
                .set("Content-Length", 0)
                .set("Connection", "close");
        closing();
        endExchange();
        releaseQueue();
        visitor.writeAndFlush(response).addListener(this::closeAfterAnswer);
    }

    private void relay(ByteBuf bytes, Channel to) {
        int n = bytes.readableBytes();
        door.metrics().bytes(n);
        if (tunnelRoute != null) {
            tunnelRoute.touch();
        }
        to.write(bytes);
    }

    /**
     * A part of a request's body could not be read (chunks framed wrongly, trailers too long). When it is the body
     * under way, its server must not take what came as the whole body: its connection is closed before the body's end,
     * and the visitor gets a 400 (or, with the response under way, the connection's end). A later request's: refused
     * like a head that cannot be read.
     */
    private void badBody(Throwable cause) {
        boolean laterRequestQueued = false;
        for (Object queued : queue) {
            laterRequestQueued |= queued instanceof HttpRequest;
        }
        if (exchange == null || exchange.bodyEnded || laterRequestQueued) {
            refuse(cause);
            return;
        }
        log.debug("visitor connection {}: request body unreadable: {}", visitor, cause.toString());
        dropUpstream();
        if (exchange.responseStarted) {
            closing();
            releaseQueue();
            visitor.close();
            return;
        }
        answer(HttpResponseStatus.BAD_REQUEST, "The request's body could not be read as HTTP.");
    }

    /** The visitor sent something that is not a request the front door can read: say what, and close. */
    private void refuse(Throwable cause) {
        HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                : cause instanceof TooLongHttpLineException
                        ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                        : HttpResponseStatus.BAD_REQUEST;
        String message = cause instanceof TooLongFrameException
                ? "The request's headers or address are too long."
                : "The request could not be read as HTTP.";
        if (exchange != null) {
            // a bad request behind one being answered: that one's body still goes, its answer goes out, then the end
            releaseAfterCurrentBody();
            exchange.closeAfter = true;
            return;
        }
        releaseQueue();
        closing();
        answer(status, message);
    }

    /** Answers the visitor here (plain JSON, like the portal's proxy errors), then closes the connection. */
    private void answer(HttpResponseStatus status, String message) {
        byte[] body = SessionPaths.jsonMessage(message).getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                status,
                exchange != null && exchange.headRequest
                        ? Unpooled.EMPTY_BUFFER
                        : Unpooled.wrappedBuffer(body)); // HEAD: the length only
        response.headers()
                .set("Content-Type", "application/json;charset=UTF-8")
                .set("Cache-Control", "no-store")
                .set("Content-Length", body.length)
                .set("Connection", "close");
        closing();
        endExchange();
        releaseQueue();
        visitor.writeAndFlush(response).addListener(this::closeAfterAnswer);
    }

    // ---------------------------------------------------------------------------------------------- server side

    /** The server side of this visitor's connection; ignores everything once it is no longer the current one. */
    private final class ServerSide extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (ctx.channel() != upstream || state == State.CLOSING) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (state == State.TUNNEL) {
                if (msg instanceof ByteBuf bytes) {
                    relay(bytes, visitor);
                } else {
                    ReferenceCountUtil.release(msg); // (only bytes come once the reader is taken out)
                }
                return;
            }
            Exchange x = exchange;
            if (x == null) {
                ReferenceCountUtil.release(msg); // a server talking out of turn: not this visitor's concern
                ctx.close();
                return;
            }
            x.received = true;
            if (msg instanceof ResponseReader.Head response) {
                int status = response.status;
                if (status == 101 && x.upgrade) {
                    switchToTunnel(ctx, response);
                    return;
                }
                if (status < 200) {
                    return; // 100 Continue was answered at the door; other interim answers are not passed on
                }
                x.responseStarted = true;
                boolean dechunk =
                        x.visitorHttp10 && response.chunked; // HTTP/1.0 cannot read chunks: ends with the connection
                boolean delimited = x.headRequest
                        || status == 204
                        || status == 304
                        || response.contentLength >= 0
                        || (response.chunked && !dechunk);
                upstreamDone = !response.keepAlive || !(delimited || response.chunked); // (or its body ends with it)
                if (dechunk) {
                    reader.dechunk();
                }
                int max = door.settings().maxKeepAliveRequests();
                x.closeAfter |= x.upgrade
                        || !delimited
                        || !x.visitorKeepAlive
                        || door.draining()
                        || (max > 0 && requests >= max);
                byte[] connection = x.closeAfter ? CONNECTION_CLOSE : x.visitorHttp10 ? CONNECTION_KEEP_ALIVE : null;
                rawOut().write(response.toVisitor(visitor.alloc(), x.visitorHttp10, connection));
                return;
            }
            if (msg == ResponseReader.END) {
                if (x.closeAfter) {
                    // a refused upgrade, a body that ends with the connection, a visitor that asked to close
                    closing();
                    rawOut().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(VisitorConnection.this::closeAfterAnswer);
                } else {
                    visitor.flush();
                }
                complete();
                return;
            }
            if (msg instanceof ByteBuf body) {
                int n = body.readableBytes();
                door.metrics().bytes(n);
                x.touch();
                rawOut().write(body);
                if (!visitor.isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                }
                return;
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (ctx.channel() == upstream) {
                visitor.flush();
                if (!visitor.isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel() == upstream) {
                updateReading();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof IdleStateEvent)) {
                ctx.fireUserEventTriggered(evt);
            } else if (ctx.channel() == upstream
                    && exchange != null
                    && exchange.bodyEnded
                    && ctx.channel().config().isAutoRead()) {
                // (not while its reading is paused because the visitor is slow to take the response)
                exchange.timedOut = true; // the request is sent and the server has said nothing for the read timeout
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("server connection {}: {}", ctx.channel(), cause.toString(), cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() != upstream) {
                return;
            }
            upstream = null;
            if (state == State.CLOSING) {
                return;
            }
            if (state == State.TUNNEL) {
                visitor.close();
                return;
            }
            if (exchange != null) {
                // part of a head, or a head that could not be read: the server did answer (the request is not replayed)
                exchange.received |= reader.heard();
                upstreamFailed(true);
            }
        }
    }

    private void switchToTunnel(ChannelHandlerContext server, ResponseReader.Head response) {
        rawOut().writeAndFlush(response.toVisitor(visitor.alloc(), true, UPGRADED));
        ChannelPipeline visitorPipeline = visitor.pipeline();
        visitorPipeline.remove(ENCODER);
        if (visitorPipeline.get(IDLE) != null) {
            visitorPipeline.remove(IDLE);
        }
        tunnelRoute = exchange.route;
        state = State.TUNNEL;
        endExchange();
        door.metrics().webSocketOpened();
        ChannelPipeline serverPipeline = server.pipeline();
        if (serverPipeline.get(IDLE) != null) {
            serverPipeline.remove(IDLE);
        }
        serverPipeline.remove(CODEC); // bytes it holds beyond the 101 arrive next, as they are
        drain();
    }

    /** The server connection failed before or during the current exchange. */
    private void upstreamFailed(boolean connected) {
        Exchange x = exchange;
        if (x.responseStarted) {
            door.metrics().upstreamError();
            closing();
            visitor.close(); // a response under way is cut short: the visitor sees an error, not a truncated body
            return;
        }
        if (x.mayReplay(connected, upstreamReused)) {
            // once more, on a new connection; a session that ended meanwhile: the portal says so
            x.replayed = true;
            if (x.route != null) {
                x.route = door.routes().held(x.route.sessionId());
            }
            dropUpstream();
            sendHead();
            if (state != State.CONNECTING) {
                drain();
            }
            return;
        }
        door.metrics().upstreamError();
        if (x.timedOut) {
            answer(
                    HttpResponseStatus.GATEWAY_TIMEOUT,
                    SessionPaths.timedOut(door.settings().readTimeout()));
        } else if (x.route != null) {
            answer(
                    HttpResponseStatus.BAD_GATEWAY,
                    connected ? SessionPaths.NO_PROPER_ANSWER : SessionPaths.NOT_ACCEPTING);
        } else {
            answer(
                    HttpResponseStatus.BAD_GATEWAY,
                    "Ferry could not answer this request just now. Try again in a moment.");
        }
    }

    /** The whole request has gone to the server: the read timeout counts from now, not from the last response. */
    private void requestSent() {
        exchange.bodyEnded = true;
        if (upstream.pipeline().get(IDLE) instanceof IdleStateHandler idle) {
            idle.resetReadTimeout();
        }
    }

    /** The exchange is over: the next queued request may go. */
    private void complete() {
        boolean bodyEnded = exchange.bodyEnded;
        endExchange();
        if (state == State.CLOSING) {
            dropUpstream();
            releaseQueue();
            return;
        }
        if (upstreamDone || !bodyEnded) {
            // closed by the server, or answered before the visitor's body was all sent (the rest is dropped): not
            // reused
            dropUpstream();
        }
        if (visitor.pipeline().get(IDLE) instanceof IdleStateHandler idle) {
            idle.resetReadTimeout(); // the keep-alive timeout counts from the end of the response
        }
        drain();
    }

    private void endExchange() {
        if (exchange != null) {
            exchange = null;
            door.exchangeEnded();
        }
    }

    private void dropUpstream() {
        Channel old = upstream;
        upstream = null;
        if (old != null) {
            old.close();
        }
    }

    /** Releases what is queued after the body of the request under way (all of it once that body has gone). */
    private void releaseAfterCurrentBody() {
        if (exchange.bodyEnded) {
            releaseQueue();
            return;
        }
        ArrayDeque<Object> current = new ArrayDeque<>();
        Object next;
        while ((next = queue.poll()) != null) {
            current.add(next);
            if (next instanceof LastHttpContent) {
                break;
            }
        }
        releaseQueue();
        queue.addAll(current);
    }

    private void releaseQueue() {
        Object next;
        while ((next = queue.poll()) != null) {
            ReferenceCountUtil.release(next);
        }
    }

    /** Who sent the requests on this connection, as the head writer needs it (taken once per connection). */
    private RequestHeadWriter.Visitor visitorInfo() {
        if (from == null) {
            from = new RequestHeadWriter.Visitor(
                    ((InetSocketAddress) visitor.remoteAddress()).getAddress().getHostAddress(),
                    (InetSocketAddress) visitor.localAddress(),
                    door.port(),
                    door.tls() != null);
        }
        return from;
    }

    /** An upgrade request with a body goes on as a plain request: its body is not tunnel bytes. */
    private static boolean hasBody(HttpRequest request) {
        return HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
    }

    private static boolean isWebSocketUpgrade(HttpRequest request) {
        String value = request.headers().get(HttpHeaderNames.UPGRADE);
        return value != null && value.toLowerCase(Locale.ROOT).contains("websocket");
    }

    /** Where response bytes are written: past the visitor's HTTP encoder, which only the front door's own answers use. */
    private ChannelHandlerContext rawOut() {
        if (rawOut == null) {
            rawOut = visitor.pipeline().context(ENCODER);
        }
        return rawOut;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
