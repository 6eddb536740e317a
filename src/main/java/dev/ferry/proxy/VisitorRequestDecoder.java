package dev.ferry.proxy;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * Netty's request decoder, with a deadline for each request head: a head must be complete within the request-head
 * timeout of the connection's start (the first request) or of its own first byte (each next one). A visitor that sends
 * a head a line at a time (slowloris) is never idle, so the idle timeouts alone would let it hold its connection for
 * ever. A kept-alive connection with no request begun is not timed here; the keep-alive timeout governs it.
 *
 * <p>When the deadline passes, the decoder fires a {@link HeadTimeout} and reads nothing more of the connection.
 */
final class VisitorRequestDecoder extends HttpRequestDecoder {

    /** A request head was not complete in time; {@code partial}: some of it had come. */
    record HeadTimeout(boolean partial) {}

    private final long timeoutNanos;
    private ScheduledFuture<?> deadline;
    /** Between a request head and the end of its body: what comes is not a head. */
    private boolean inBody;
    /** Bytes of the head under way have come. */
    private boolean partial;

    private boolean expired;

    VisitorRequestDecoder(HttpDecoderConfig config, long timeoutNanos) {
        super(config);
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        startDeadline(ctx); // the first head: from the connection's start, so that a connection that sends nothing ends
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (expired) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        int from = buffer.readerIndex();
        int decoded = out.size();
        super.decode(ctx, buffer, out);
        for (int i = decoded; i < out.size(); i++) {
            Object message = out.get(i);
            if (message instanceof HttpRequest) {
                inBody = true;
                partial = false;
                cancelDeadline();
            }
            if (message instanceof LastHttpContent) {
                inBody = false;
            }
        }
        if (!inBody && out.size() == decoded && (buffer.readerIndex() != from || buffer.isReadable())) {
            partial = true; // the next head has begun (its bytes are read, or wait for the rest of a line)
            startDeadline(ctx);
        }
    }

    private void startDeadline(ChannelHandlerContext ctx) {
        if (deadline == null && timeoutNanos > 0) {
            deadline = ctx.executor().schedule(() -> expire(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void expire(ChannelHandlerContext ctx) {
        deadline = null;
        if (ctx.isRemoved() || !ctx.channel().isActive()) {
            return;
        }
        if (!ctx.channel().config().isAutoRead()) {
            // the front door is not reading (a request before this one is being answered): not the visitor's delay
            startDeadline(ctx);
            return;
        }
        expired = true;
        ctx.fireUserEventTriggered(new HeadTimeout(partial));
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelDeadline();
        super.channelInactive(ctx);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
        cancelDeadline(); // taken out for a WebSocket tunnel: no more heads
        super.handlerRemoved0(ctx);
    }
}
