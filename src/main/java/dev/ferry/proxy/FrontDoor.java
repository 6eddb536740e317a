package dev.ferry.proxy;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.management.UnixOperatingSystemMXBean;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;

import dev.ferry.access.ClientAddresses;

/**
 * The socket visitors connect to, in front of the servlet container. Notebook traffic ({@code /user/<id>/…} of a known
 * session, plain HTTP) is relayed here, event-driven, straight to the session's server: one event loop per core reads
 * the visitor and the server and writes to the other, with no thread waiting on either; WebSockets become byte
 * tunnels once the server answers 101. It terminates TLS ({@code server.ssl.*}) and, with per-session origins, routes
 * by host ({@link SessionHosts}). Path tricks and servers that do not answer are answered here; everything else —
 * portal pages, the build API, unknown and ended sessions — is relayed unchanged to the servlet container on a
 * loopback port.
 *
 * <p>The servlet container learns the visitor's address from a header carrying a secret made at start
 * ({@link FrontDoorPeerValve}); a request that reaches its loopback port any other way does not get to choose it.
 *
 * <p>Slow and numerous visitors cannot take the descriptors everyone needs: a request head must arrive in full within
 * the request-head timeout ({@link VisitorRequestDecoder}), and connections are capped in all and per address
 * ({@link ConnectionLimits}), the cap kept below the process's open-file limit; over a cap a connection is still
 * accepted, answered 503 and closed. Should accepting fail anyway ("Too many open files": descriptors taken by something
 * else), Netty's acceptor keeps the listening socket and stops reading it for a second before trying again, so the
 * door neither spins nor stops (FrontDoorOutOfDescriptorsTest).
 *
 * <p>Why: on the hot path the servlet container's request machinery and its poller-to-worker hand-off cost about
 * 45 µs of CPU per small proxied request against nginx's 17–18 µs (bench/README.md).
 */
public final class FrontDoor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FrontDoor.class);
    static final String PEER_HEADER = "x-ferry-peer";
    private static final String TLS = "tls";
    /** On a connection over a cap: the sentence it is answered with. */
    private static final AttributeKey<String> REFUSED = AttributeKey.valueOf("ferry.refused");
    /**
     * Netty's pooled allocator rather than its default (adaptive) one: in interleaved A/B runs it moved 1 MiB downloads
     * and 10 MiB uploads from 0.73× / 0.88× nginx to 1.8× / 1.5×, and cut the CPU per small request (bench/README.md).
     */
    static final PooledByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    /**
     * @param contextPath          the servlet context path ("" for none): {@code <contextPath>/user/} is relayed here
     * @param maxHeaderBytes       the largest request line and header block accepted (the container's own limit)
     * @param keepAliveTimeout     how long an idle kept-alive HTTP connection stays open (WebSockets: no limit)
     * @param maxKeepAliveRequests requests served on one connection before it is closed (≤ 0: no limit)
     * @param requestHeadTimeout   how long a request head may take to arrive in full (≤ 0: no limit)
     * @param maxConnections       visitor connections open at once, lowered to what the open-file limit allows
     * @param maxConnectionsPerAddress visitor connections open at once from one address (≤ 0: no limit)
     */
    public record Settings(
            String contextPath,
            Duration connectTimeout,
            Duration readTimeout,
            int maxHeaderBytes,
            Duration keepAliveTimeout,
            int maxKeepAliveRequests,
            Duration requestHeadTimeout,
            int maxConnections,
            int maxConnectionsPerAddress) {}

    private final RouteTable routes;
    private final SessionHosts sessionHosts;
    private final ProxyMetrics metrics;
    private final Settings settings;
    private final ClientAddresses clients;
    private final String secret;
    private final RequestHeadWriter heads;
    private final boolean epoll = Epoll.isAvailable();
    private EventLoopGroup group;
    private OffLoopResolver resolver;
    private final ChannelGroup visitors = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger exchanges = new AtomicInteger();
    private volatile boolean draining;
    private ConnectionLimits limits;
    private volatile long lastCapWarning = System.nanoTime() - TimeUnit.MINUTES.toNanos(2);
    /** How long a refused connection is read (and what comes dropped) after its 503, at most. */
    private static final Duration LINGER = Duration.ofSeconds(2);

    private final AtomicInteger lingeringConnections = new AtomicInteger();
    private Channel server;
    /** TLS the front door terminates ({@code server.ssl.*}); null: plain HTTP. */
    private volatile SslContext tls;

    private InetSocketAddress portal;
    private int publicPort;

    /** {@code clients}: whose forwarding headers are believed ({@code ferry.trusted-proxies}). */
    public FrontDoor(
            RouteTable routes,
            SessionHosts sessionHosts,
            ProxyMetrics metrics,
            Settings settings,
            ClientAddresses clients) {
        this.routes = routes;
        this.sessionHosts = sessionHosts;
        this.clients = clients;
        this.metrics = metrics;
        this.settings = settings;
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        this.secret = HexFormat.of().formatHex(random);
        this.heads = new RequestHeadWriter(clients, secret);
    }

    /** The value the servlet container must see in {@value #PEER_HEADER} before it believes an address in it. */
    String secret() {
        return secret;
    }

    /**
     * Listens on {@code address:port} (address null: every interface; port 0: any free one) and relays what is not
     * notebook traffic to the servlet container on {@code loopback:portalPort}. Returns the port it listens on.
     */
    public synchronized int start(InetAddress address, int port, InetAddress portalAddress, int portalPort)
            throws InterruptedException {
        this.portal = new InetSocketAddress(portalAddress, portalPort);
        this.draining = false;
        resolver = new OffLoopResolver(settings.connectTimeout());
        limits = limits();
        IoHandlerFactory ioHandlers = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        group = new MultiThreadIoEventLoopGroup(
                Runtime.getRuntime().availableProcessors(),
                new DefaultThreadFactory("ferry-front-door", true),
                ioHandlers);
        Class<? extends ServerChannel> serverType =
                epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(serverType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .handler(new Admission())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        String refusal = ch.attr(REFUSED).get();
                        SslContext ssl = tls;
                        if (refusal != null && ssl != null) {
                            ch.close(); // (a plain 503 means nothing to a TLS client, and a handshake costs CPU)
                            return;
                        }
                        if (refusal != null) {
                            ch.config().setAutoRead(false);
                            ch.pipeline().addLast(new AtCapacity(refusal));
                            return;
                        }
                        ch.pipeline()
                                .addLast(
                                        VisitorConnection.CODEC,
                                        new VisitorRequestDecoder(
                                                new HttpDecoderConfig()
                                                        .setMaxInitialLineLength(settings.maxHeaderBytes())
                                                        .setMaxHeaderSize(settings.maxHeaderBytes())
                                                        .setMaxChunkSize(64 * 1024)
                                                        // strict framing, whatever the JVM's io.netty.* properties say
                                                        // (smuggling)
                                                        .setUseRfc9112TransferEncoding(true)
                                                        .setStrictLineParsing(true)
                                                        .setAllowDuplicateContentLengths(false),
                                                settings.requestHeadTimeout().toNanos()))
                                // (responses from servers are written past it, as they came: see ResponseReader)
                                .addLast(VisitorConnection.ENCODER, new HttpResponseEncoder())
                                .addLast(VisitorConnection.HANDLER, new VisitorConnection(FrontDoor.this));
                        if (ssl != null) {
                            // a handshake that stalls is a request head that does not come: the head timeout ends it
                            SslHandler handler = ssl.newHandler(ch.alloc());
                            handler.setHandshakeTimeoutMillis(0);
                            ch.pipeline().addFirst(TLS, handler);
                        }
                        // Reader idle only (an all-idle handler adds a listener to every write). Its events also end
                        // request bodies that stop coming and visitors that stop reading, so it is there even when
                        // kept-alive connections may idle for ever (a keep-alive timeout of 0 or less, as in Tomcat).
                        long keepAlive = settings.keepAliveTimeout().toMillis();
                        long idle = keepAlive > 0
                                ? keepAlive
                                : settings.readTimeout().toMillis();
                        IdleStateHandler idleness = new IdleStateHandler(idle, 0, 0, TimeUnit.MILLISECONDS);
                        if (ssl != null) {
                            // ahead of TLS, which passes nothing on until a record is whole: a handshake that trickles
                            // in is not idle, and ends at the request-head timeout like a head that trickles in
                            ch.pipeline().addFirst(VisitorConnection.IDLE, idleness);
                        } else {
                            ch.pipeline().addBefore(VisitorConnection.HANDLER, VisitorConnection.IDLE, idleness);
                        }
                        visitors.add(ch);
                    }
                });
        try {
            server = (address == null ? bootstrap.bind(port) : bootstrap.bind(address, port))
                    .sync()
                    .channel();
        } catch (Exception e) { // sync() rethrows the bind failure (BindException, epoll's NativeIoException) as it is
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
            resolver.close();
            if (e instanceof InterruptedException interrupted) {
                throw interrupted;
            }
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getMessage(), e);
        }
        publicPort = ((InetSocketAddress) server.localAddress()).getPort();
        log.info("Front door listening on port {} ({}), portal on {}", publicPort, epoll ? "epoll" : "nio", portal);
        return publicPort;
    }

    /**
     * The caps on open connections: the configured global one lowered to what the process's open-file limit leaves
     * room for (a front door that runs out of descriptors can accept no one, not even the portal's visitors).
     */
    private ConnectionLimits limits() {
        long fileLimit = ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount()
                : -1;
        int max = ConnectionLimits.fitToFileLimit(settings.maxConnections(), fileLimit);
        if (max < settings.maxConnections()) {
            log.warn(
                    "ferry.proxy.max-connections lowered from {} to {}: the process may open {} files, and each "
                            + "relayed visitor needs up to 3; raise the limit (ulimit -n) to allow more",
                    settings.maxConnections(),
                    max,
                    fileLimit);
        }
        log.info(
                "Front door takes up to {} connections at once, {} from one address",
                max,
                settings.maxConnectionsPerAddress() > 0 ? settings.maxConnectionsPerAddress() : "any number");
        return new ConnectionLimits(max, settings.maxConnectionsPerAddress());
    }

    /**
     * Counts each new visitor connection as it is accepted, in the order accepted; one over a cap is answered 503 at
     * once and closed ({@link AtCapacity}), so that accepting goes on (refusing to accept would leave the portal's
     * visitors waiting in the backlog behind the attacker's).
     */
    private final class Admission extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof SocketChannel child && child.remoteAddress() == null) {
                // gone already (NIO reports no peer then): dropped here, since a failure on the listening socket's
                // pipeline would pause accepting for a second
                child.unsafe().closeForcibly();
                return;
            }
            if (msg instanceof SocketChannel child) {
                admit(child);
            }
            ctx.fireChannelRead(msg);
        }
    }

    private void admit(SocketChannel ch) {
        InetAddress peer = ch.remoteAddress().getAddress();
        boolean exempt = clients.trusts(peer.getHostAddress()); // a proxy of the operator's carries many visitors
        ConnectionLimits.Refusal refusal = limits.admit(peer, exempt);
        if (refusal == null) {
            metrics.connectionOpened();
            ch.closeFuture().addListener(f -> {
                limits.release(peer, exempt);
                metrics.connectionClosed();
            });
            return;
        }
        metrics.connectionRefused(refusal == ConnectionLimits.Refusal.GLOBAL);
        if (refusal == ConnectionLimits.Refusal.GLOBAL) {
            long now = System.nanoTime();
            if (now - lastCapWarning > TimeUnit.MINUTES.toNanos(1)) { // once a minute, not once a connection
                lastCapWarning = now;
                log.warn(
                        "Front door at its cap of {} open connections: new ones are answered 503 "
                                + "(ferry.proxy.max-connections)",
                        limits.max());
            }
        }
        ch.attr(REFUSED)
                .set(
                        refusal == ConnectionLimits.Refusal.GLOBAL
                                ? "Ferry has as many connections open as it can take just now. Try again in a few seconds."
                                : "Too many connections are open from your address (at most " + limits.perAddress()
                                        + "). Close some tabs, or try again in a few seconds.");
    }

    /**
     * Answers a connection over a cap with a short 503 and ends it, reading nothing but what is discarded meanwhile.
     * Closing a socket with unread bytes (the visitor's request) sends a reset, which may destroy the answer before the
     * visitor reads it; so the answer is followed by the end of what the door sends, and the rest of the request is
     * read and dropped until the visitor closes, for {@link #LINGER} at most, up to 64 KiB. Lingering connections are
     * few ({@link #lingerMax}); beyond that they are closed at once, the answer best effort, so that a flood of
     * connections cannot hold descriptors this way either ({@link #lingerThenClose}, as for answered visitors).
     */
    private final class AtCapacity extends ChannelInboundHandlerAdapter {

        private final String message;
        private long discarded;

        AtCapacity(String message) {
            this.message = message;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            byte[] body = SessionPaths.jsonMessage(message).getBytes(StandardCharsets.UTF_8);
            byte[] head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json;charset=UTF-8\r\n"
                            + "Cache-Control: no-store\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: "
                            + body.length
                            + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(head, body)).addListener(written -> {
                if (written.isSuccess()) {
                    lingerThenClose(ctx.channel());
                } else {
                    ctx.close();
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf bytes) {
                discarded += bytes.readableBytes();
            }
            ReferenceCountUtil.release(msg);
            if (discarded > 64 * 1024) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Closes a visitor's connection whose last answer has gone out without letting a reset destroy that answer: what the
     * door sends ends (a FIN after the answer), and what the visitor still sends (the rest of a request answered before
     * its body was read) is read and dropped (the connection's handler drops everything once it is closing) until the
     * visitor closes, for {@link #LINGER} at most. As for refused connections, lingering ones are few
     * ({@link #lingerMax}); beyond, and under TLS (whose end is its own close_notify), the connection closes at once.
     */
    void lingerThenClose(Channel channel) {
        if (!channel.isActive()
                || !(channel instanceof SocketChannel socket)
                || channel.pipeline().get(SslHandler.class) != null) {
            channel.close();
            return;
        }
        if (lingeringConnections.incrementAndGet() > lingerMax()) {
            lingeringConnections.decrementAndGet();
            channel.close();
            return;
        }
        channel.closeFuture().addListener(closed -> lingeringConnections.decrementAndGet());
        socket.shutdownOutput();
        channel.config().setAutoRead(true);
        channel.eventLoop().schedule(() -> channel.close(), LINGER.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Refused connections that may linger at once: an eighth of the global cap, at least 64. */
    private int lingerMax() {
        return Math.max(64, limits.max() / 8);
    }

    /** Terminates TLS at the door (before {@link #start}, or again when its certificate is renewed); null: plain HTTP. */
    void useTls(SslContext context) {
        this.tls = context;
    }

    /** The TLS the door terminates, or null. */
    SslContext tls() {
        return tls;
    }

    /** Stops accepting connections; connections already open go on. */
    public synchronized void stopAccepting() {
        if (server != null) {
            Channel closing = server;
            server = null;
            closing.close().syncUninterruptibly();
        }
    }

    /**
     * The start of a graceful shutdown: no new connections; kept-alive connections close when idle, each after the
     * response under way. WebSocket tunnels are left to the end, as Tomcat leaves upgraded connections.
     */
    public void drain() {
        draining = true;
        stopAccepting();
        for (Channel visitor : visitors) {
            visitor.eventLoop().execute(() -> {
                if (visitor.pipeline().get(VisitorConnection.HANDLER) instanceof VisitorConnection connection) {
                    connection.closeIfIdle();
                }
            });
        }
    }

    /** Requests being answered through the front door (not counting WebSocket tunnels). */
    public int exchangesUnderWay() {
        return exchanges.get();
    }

    boolean draining() {
        return draining;
    }

    void exchangeStarted() {
        exchanges.incrementAndGet();
    }

    void exchangeEnded() {
        exchanges.decrementAndGet();
    }

    /** Stops accepting and closes every open connection. */
    @Override
    public synchronized void close() {
        stopAccepting();
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
            resolver.close();
        }
    }

    int port() {
        return publicPort;
    }

    RouteTable routes() {
        return routes;
    }

    /** Per-session origins ({@code ferry.proxy.session-domain}), off when no domain is set. */
    SessionHosts sessionHosts() {
        return sessionHosts;
    }

    ProxyMetrics metrics() {
        return metrics;
    }

    /** Writes request heads as sessions' servers and the portal get them. */
    RequestHeadWriter heads() {
        return heads;
    }

    Settings settings() {
        return settings;
    }

    /** Looks up upstream host names off the event loops. */
    OffLoopResolver resolver() {
        return resolver;
    }

    InetSocketAddress portal() {
        return portal;
    }

    Class<? extends Channel> socketType() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
