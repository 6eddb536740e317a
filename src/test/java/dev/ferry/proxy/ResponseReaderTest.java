package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;

/**
 * {@link ResponseReader}: where each response ends (a length, chunks, HEAD, 204/304, interim answers, the connection's
 * end), read from the bytes split at every point, and what the visitor's copy of a head keeps.
 */
class ResponseReaderTest {

    /** What the reader passes on for {@code response} fed in two parts split at {@code split}. */
    private static String read(String response, int split, boolean headRequest, boolean dechunk, boolean close) {
        ResponseReader reader = new ResponseReader();
        reader.expectAnswerTo(headRequest);
        EmbeddedChannel channel = new EmbeddedChannel(reader, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (dechunk && msg instanceof ResponseReader.Head head && head.chunked) {
                    reader.dechunk(); // as the front door does for an HTTP/1.0 visitor, before the body is read
                }
                ctx.fireChannelRead(msg);
            }
        });
        byte[] bytes = response.getBytes(StandardCharsets.ISO_8859_1);
        StringBuilder out = new StringBuilder();
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, 0, split));
        collect(channel, out);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, split, bytes.length - split));
        collect(channel, out);
        if (close) {
            channel.finish();
            collect(channel, out);
        }
        return out.toString();
    }

    private static void collect(EmbeddedChannel channel, StringBuilder out) {
        Object next;
        while ((next = channel.readInbound()) != null) {
            if (next instanceof ResponseReader.Head head) {
                ByteBuf copy = head.toVisitor(ByteBufAllocator.DEFAULT, false, null);
                out.append("[head ").append(head.status).append("]");
                copy.release();
            } else if (next == ResponseReader.END) {
                out.append("[end]");
            } else {
                ByteBuf body = (ByteBuf) next;
                out.append(body.toString(StandardCharsets.ISO_8859_1));
                body.release();
            }
        }
    }

    /** The same transcript whatever the split, and that transcript. */
    private static String readAtEverySplit(String response, boolean headRequest, boolean dechunk, boolean close) {
        String whole = read(response, response.length(), headRequest, dechunk, close);
        for (int split = 0; split < response.length(); split++) {
            assertThat(read(response, split, headRequest, dechunk, close))
                    .as("split at %d", split)
                    .isEqualTo(whole);
        }
        return whole;
    }

    @Test
    void aBodyOfALengthEndsAtItsLengthAndTheNextResponseFollows() {
        String two = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                + "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
        assertThat(readAtEverySplit(two, false, false, false)).isEqualTo("[head 200]hello[end][head 404]no[end]");
    }

    @Test
    void chunksGoOnInFramingOfTheFrontDoorsOwnWithTheTrailersThatMayAndEndAtTheLastChunk() {
        String response =
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6 ;name=value\r\nhello \r\nA\n0123456789\n"
                        + "0\r\nTrailer-Field: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        assertThat(readAtEverySplit(response + "HTTP/1.1 204 No Content\r\n\r\n", false, false, false))
                .isEqualTo(
                        "[head 200]6\r\nhello \r\na\r\n0123456789\r\n0\r\nTrailer-Field: x\r\n\r\n[end][head 204][end]");
        assertThat(readAtEverySplit(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, false, false))
                .as("no data at all")
                .isEqualTo("[head 200]0\r\n\r\n[end]");
    }

    @Test
    void aHeadThatComesAByteAtATimeIsReadAsOne() {
        String response = "HTTP/1.1 200 OK\r\nX-A: " + "a".repeat(300) + "\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: " + "t".repeat(100)
                + "\r\n\r\n";
        EmbeddedChannel channel = new EmbeddedChannel(new ResponseReader());
        StringBuilder out = new StringBuilder();
        for (byte b : response.getBytes(StandardCharsets.US_ASCII)) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            collect(channel, out);
        }
        assertThat(out)
                .hasToString("[head 200]ok[end][head 200]2\r\nok\r\n0\r\nX-T: " + "t".repeat(100) + "\r\n\r\n[end]");
        channel.finishAndReleaseAll();
    }

    @Test
    void aVisitorThatCannotReadChunksGetsOnlyTheirData() {
        String response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
        assertThat(readAtEverySplit(response, false, true, false)).isEqualTo("[head 200]hello world[end]");
    }

    @Test
    void answersToHeadAnd204And304HaveNoBodyWhateverTheySay() {
        ResponseReader reader = new ResponseReader();
        EmbeddedChannel channel = new EmbeddedChannel(reader);
        StringBuilder out = new StringBuilder();
        reader.expectAnswerTo(true);
        channel.writeInbound(
                Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", StandardCharsets.US_ASCII));
        collect(channel, out);
        channel.writeInbound(
                Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", StandardCharsets.US_ASCII));
        collect(channel, out);
        assertThat(out)
                .as("the answer to HEAD, then to a GET on the same connection")
                .hasToString("[head 200][end][head 200]ok[end]");
        channel.finishAndReleaseAll();
        assertThat(readAtEverySplit(
                        "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
                                + "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
                        false,
                        false,
                        false))
                .isEqualTo("[head 304][end][head 204][end]");
    }

    @Test
    void interimAnswersComeAsHeadsWithoutAnEndBeforeTheFinalOne() {
        assertThat(readAtEverySplit(
                        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                        false,
                        false,
                        false))
                .isEqualTo("[head 100][head 103][head 200]ok[end]");
    }

    @Test
    void aBodyWithoutALengthEndsWithTheConnectionAndOneCutShortDoesNotEnd() {
        assertThat(readAtEverySplit(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", false, false, true))
                .isEqualTo("[head 200]until the end[end]");
        assertThat(readAtEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", false, false, true))
                .isEqualTo("[head 200]short");
        assertThat(readAtEverySplit(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nshort\r\n", false, false, true))
                .isEqualTo("[head 200]5\r\nshort");
    }

    @Test
    void aTransferCodingOverridesALengthAndOnlyAFinalChunkedMeansChunks() {
        ResponseReader.Head both = head("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(both.chunked).isTrue();
        assertThat(both.contentLength).isEqualTo(-1);
        assertThat(visitorCopy(both, false)).doesNotContainIgnoringCase("content-length");
        ResponseReader.Head gzipLast = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
        assertThat(gzipLast.chunked).as("chunked that is not the final coding").isFalse();
        assertThat(gzipLast.contentLength).isEqualTo(-1);
        assertThat(readAtEverySplit("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw bytes", false, false, true))
                .isEqualTo("[head 200]raw bytes[end]");
    }

    @Test
    void keepAliveFollowsTheVersionAndTheConnectionHeader() {
        assertThat(keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")).isTrue();
        assertThat(keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"))
                .as("a length beside a transfer coding")
                .isFalse();
        assertThat(keepAlive("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"))
                .as("a transfer coding in HTTP/1.0")
                .isFalse();
        assertThat(keepAlive("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n"))
                .isFalse();
        assertThat(keepAlive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")).isFalse();
        assertThat(keepAlive("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"))
                .isTrue();
    }

    @Test
    void theVisitorsCopyIsHttp11WithoutHopByHopHeadersOrThoseTheConnectionHeaderNames() {
        ResponseReader.Head head =
                head("HTTP/1.0 200 Fine\nServer: test\nConnection: keep-alive, X-Hop, Content-Length\n"
                        + "Keep-Alive: timeout=5\nX-Hop: 1\nProxy-Connection: x\nTE: trailers\nTrailer: X\nUpgrade: h2c\n"
                        + "Proxy-Authenticate: Basic\nContent-Length: 3\nx-hop: 2\nX-Kept: yes\n\n");
        assertThat(visitorCopy(head, false))
                .isEqualTo("HTTP/1.1 200 Fine\r\nServer: test\r\nContent-Length: 3\r\nX-Kept: yes\r\n\r\n");
        ResponseReader.Head chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n");
        ByteBuf copy = chunked.toVisitor(
                ByteBufAllocator.DEFAULT, true, "Connection: close\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(copy.toString(StandardCharsets.US_ASCII))
                .isEqualTo("HTTP/1.1 200 OK\r\nX: y\r\nConnection: close\r\n\r\n");
        copy.release();
    }

    @Test
    void emptyLinesBeforeAStatusLineAreSkipped() {
        assertThat(readAtEverySplit("\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, false))
                .isEqualTo("[head 200]ok[end]");
    }

    @Test
    void headsAProxyMustNotPassOnFailTheConnection() {
        for (String bad : new String[] {
            "HTTP/2.0 200 OK\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 200OK\r\n\r\n",
            "ICY 200 OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: folded\r\n  line\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 zz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\0\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\rb\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Name: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n folded\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n"
        }) {
            EmbeddedChannel channel = new EmbeddedChannel(new ResponseReader());
            assertThatThrownBy(() -> {
                        channel.writeInbound(Unpooled.copiedBuffer(bad, StandardCharsets.ISO_8859_1));
                        releaseAll(channel);
                    })
                    .as(bad)
                    .isInstanceOf(DecoderException.class);
            releaseAll(channel);
            channel.finishAndReleaseAll();
        }
        ResponseReader.Head equal = head("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n");
        assertThat(equal.contentLength).as("equal lengths are one length").isEqualTo(5);
        assertThat(visitorCopy(equal, false))
                .as("and one header")
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    }

    @Test
    void aHeadLongerThanTheLimitFailsTheConnectionBeforeItEnds() {
        EmbeddedChannel channel = new EmbeddedChannel(new ResponseReader());
        String start = "HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(ResponseReader.MAX_HEAD);
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.copiedBuffer(start, StandardCharsets.ISO_8859_1)))
                .isInstanceOf(DecoderException.class);
        channel.finishAndReleaseAll();
    }

    private static void releaseAll(EmbeddedChannel channel) {
        Object next;
        while ((next = channel.readInbound()) != null) {
            io.netty.util.ReferenceCountUtil.release(next);
        }
    }

    private static ResponseReader.Head head(String text) {
        EmbeddedChannel channel = new EmbeddedChannel(new ResponseReader());
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        ResponseReader.Head head = channel.readInbound();
        releaseAll(channel);
        return head;
    }

    private static boolean keepAlive(String text) {
        return head(text).keepAlive;
    }

    private static String visitorCopy(ResponseReader.Head head, boolean dropTransferEncoding) {
        ByteBuf copy = head.toVisitor(ByteBufAllocator.DEFAULT, dropTransferEncoding, null);
        try {
            return copy.toString(StandardCharsets.US_ASCII);
        } finally {
            copy.release();
        }
    }
}
