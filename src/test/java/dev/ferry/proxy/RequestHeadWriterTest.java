package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

import dev.ferry.access.ClientAddresses;

/**
 * {@link RequestHeadWriter}: the exact head a session's server and the portal get for a visitor's request —
 * forwarding headers, hop-by-hop headers, the portal's credentials, Host, Connection and upgrades, byte for byte.
 */
class RequestHeadWriterTest {

    private static final String SECRET = "s3cret";
    private static final RequestHeadWriter.Visitor DIRECT =
            new RequestHeadWriter.Visitor("192.0.2.7", new InetSocketAddress("127.0.0.1", 8080), 8080);
    private static final RequestHeadWriter.Visitor VIA_INGRESS =
            new RequestHeadWriter.Visitor("10.0.0.5", new InetSocketAddress("127.0.0.1", 8080), 8080);

    private final RequestHeadWriter writer =
            new RequestHeadWriter(ClientAddresses.trusting(List.of("10.0.0.0/8")), SECRET);

    private static HttpRequest request(HttpVersion version, HttpMethod method, String uri, String... fields) {
        HttpRequest request = new DefaultHttpRequest(version, method, uri);
        for (int i = 0; i < fields.length; i += 2) {
            request.headers().add(fields[i], fields[i + 1]);
        }
        return request;
    }

    private static HttpRequest get(String uri, String... fields) {
        return request(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, fields);
    }

    private String toSession(HttpRequest request, boolean upgrade, RequestHeadWriter.Visitor from) {
        return text(writer.toSession(request, upgrade, from, UnpooledByteBufAllocator.DEFAULT));
    }

    private String toPortal(HttpRequest request, boolean upgrade, RequestHeadWriter.Visitor from) {
        return text(writer.toPortal(request, upgrade, from, UnpooledByteBufAllocator.DEFAULT));
    }

    private static String text(ByteBuf head) {
        try {
            return head.toString(StandardCharsets.ISO_8859_1);
        } finally {
            head.release();
        }
    }

    @Test
    void aSessionGetsTheVisitorsAddressHostAndSchemeInForwardingHeadersAndNoneTheVisitorMadeUp() {
        String head = toSession(
                get(
                        "/user/abc/api?x=1",
                        "Host",
                        "ferry.example:8443",
                        "Accept",
                        "*/*",
                        "X-Forwarded-For",
                        "6.6.6.6",
                        "X-Real-IP",
                        "6.6.6.6",
                        "X-Forwarded-Proto",
                        "https",
                        "X-Forwarded-Host",
                        "evil.example",
                        "X-Forwarded-Port",
                        "1",
                        "Forwarded",
                        "for=6.6.6.6",
                        FrontDoor.PEER_HEADER,
                        "forged 6.6.6.6"),
                false,
                DIRECT);

        assertThat(head)
                .isEqualTo("GET /user/abc/api?x=1 HTTP/1.1\r\n"
                        + "Host: ferry.example:8443\r\n"
                        + "Accept: */*\r\n"
                        + "X-Forwarded-For: 192.0.2.7\r\n"
                        + "X-Real-IP: 192.0.2.7\r\n"
                        + "X-Forwarded-Proto: http\r\n"
                        + "X-Forwarded-Host: ferry.example:8443\r\n"
                        + "X-Forwarded-Port: 8443\r\n"
                        + "\r\n");
    }

    @Test
    void behindATrustedProxyTheSessionGetsTheVisitorAndSchemeThatProxySaw() {
        String head = toSession(
                get(
                        "/user/abc/",
                        "Host",
                        "ferry.example",
                        "X-Forwarded-For",
                        "6.6.6.6, 198.51.100.4",
                        "X-Forwarded-Proto",
                        "http,https"),
                false,
                VIA_INGRESS);

        assertThat(head)
                .contains(
                        "X-Forwarded-For: 198.51.100.4\r\n",
                        "X-Real-IP: 198.51.100.4\r\n",
                        "X-Forwarded-Proto: https\r\n",
                        "X-Forwarded-Port: 443\r\n")
                .doesNotContain("6.6.6.6");
    }

    @Test
    void anUntrustedPeersForwardedSchemeIsIgnored() {
        String head =
                toSession(get("/user/abc/", "Host", "ferry.example", "X-Forwarded-Proto", "https"), false, DIRECT);

        assertThat(head)
                .contains("X-Forwarded-Proto: http\r\n", "X-Forwarded-Port: 80\r\n")
                .doesNotContain("https");
    }

    @Test
    void withoutHostTheSessionGetsTheFrontDoorsPortAndNoForwardedHost() {
        String head = toSession(get("/user/abc/"), false, DIRECT);

        assertThat(head).contains("X-Forwarded-Port: 8080\r\n").doesNotContain("X-Forwarded-Host");
    }

    @Test
    void hopByHopHeadersAndThoseConnectionNamesAreRemovedButNotTheMessagesFraming() {
        String head = toSession(
                request(
                        HttpVersion.HTTP_1_1,
                        HttpMethod.POST,
                        "/user/abc/api/contents",
                        "Host",
                        "h",
                        "Connection",
                        "keep-alive, X-Private, content-length, Host",
                        "X-Private",
                        "p",
                        "Keep-Alive",
                        "timeout=5",
                        "Proxy-Connection",
                        "keep-alive",
                        "TE",
                        "trailers",
                        "Trailer",
                        "X-T",
                        "Proxy-Authorization",
                        "Basic eA==",
                        "Proxy-Authenticate",
                        "Basic",
                        "Expect",
                        "100-continue",
                        "Content-Length",
                        "3",
                        "Upgrade",
                        "h2c"),
                false,
                DIRECT);

        assertThat(head)
                .startsWith("POST /user/abc/api/contents HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n")
                .doesNotContainIgnoringCase("connection:")
                .doesNotContainIgnoringCase("x-private")
                .doesNotContainIgnoringCase("keep-alive")
                .doesNotContainIgnoringCase("te:")
                .doesNotContainIgnoringCase("trailer")
                .doesNotContainIgnoringCase("proxy-")
                .doesNotContainIgnoringCase("expect")
                .doesNotContainIgnoringCase("upgrade");
    }

    @Test
    void connectionKeepAliveOrCloseAloneRemovesNothingElse() {
        String head = toSession(get("/user/abc/", "Host", "h", "Connection", "close", "X-Kept", "1"), false, DIRECT);

        assertThat(head).contains("X-Kept: 1\r\n").doesNotContain("Connection");
    }

    @Test
    void theSessionGetsJupytersTokenButNotThePortalsCredentials() {
        String head = toSession(
                get(
                        "/user/abc/",
                        "Host",
                        "h",
                        "Authorization",
                        "Basic dTpw",
                        "Authorization",
                        "token abc",
                        "Cookie",
                        "FERRY_ADMIN=x; _xsrf=2|a; JSESSIONID=y",
                        "Cookie",
                        "ferry-attendee=z"),
                false,
                DIRECT);

        assertThat(head)
                .contains("Authorization: token abc\r\n", "Cookie: _xsrf=2|a\r\n")
                .doesNotContain("Basic", "FERRY_ADMIN", "JSESSIONID", "ferry-attendee");
    }

    @Test
    void cookiesAndTokensOfTheSessionAloneGoOnUntouched() {
        String head = toSession(
                get("/user/abc/", "Host", "h", "Authorization", "Bearer t", "Cookie", "_xsrf=2|a;  username-x=y"),
                false,
                DIRECT);

        assertThat(head).contains("Authorization: Bearer t\r\n", "Cookie: _xsrf=2|a;  username-x=y\r\n");
    }

    @Test
    void aWebSocketUpgradeAsksTheSessionForAWebSocketOverWs() {
        String head = toSession(
                get(
                        "/user/abc/api/kernels/k/channels",
                        "Host",
                        "h",
                        "Connection",
                        "Upgrade",
                        "Upgrade",
                        "websocket",
                        "Sec-WebSocket-Key",
                        "k",
                        "Sec-WebSocket-Version",
                        "13"),
                true,
                DIRECT);

        assertThat(head)
                .isEqualTo("GET /user/abc/api/kernels/k/channels HTTP/1.1\r\n"
                        + "Host: h\r\n"
                        + "Sec-WebSocket-Key: k\r\n"
                        + "Sec-WebSocket-Version: 13\r\n"
                        + "X-Forwarded-For: 192.0.2.7\r\n"
                        + "X-Real-IP: 192.0.2.7\r\n"
                        + "X-Forwarded-Proto: ws\r\n"
                        + "X-Forwarded-Host: h\r\n"
                        + "X-Forwarded-Port: 80\r\n"
                        + "Connection: Upgrade\r\n"
                        + "Upgrade: websocket\r\n"
                        + "\r\n");
    }

    @Test
    void anUpgradeBehindATrustedTlsProxyIsWss() {
        String head = toSession(get("/user/abc/x", "Host", "h", "X-Forwarded-Proto", "https"), true, VIA_INGRESS);

        assertThat(head).contains("X-Forwarded-Proto: wss\r\n");
    }

    @Test
    void anHttp10RequestGoesOnAsHttp11() {
        String head =
                toSession(request(HttpVersion.HTTP_1_0, HttpMethod.GET, "/user/abc/", "Host", "h"), false, DIRECT);

        assertThat(head).startsWith("GET /user/abc/ HTTP/1.1\r\n");
    }

    @Test
    void bytesBeyondAsciiInTheTargetGoOnAsTheSameSingleBytes() {
        // Netty's decoder makes one character of each byte: "é" in UTF-8 arrives as the two characters Ã and ©
        String target =
                new String("/user/abc/files/é?q=ü".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        ByteBuf head = writer.toSession(get(target, "Host", "h"), false, DIRECT, UnpooledByteBufAllocator.DEFAULT);
        try {
            byte[] bytes = new byte[head.readableBytes()];
            head.readBytes(bytes);
            assertThat(new String(bytes, StandardCharsets.UTF_8)).startsWith("GET /user/abc/files/é?q=ü HTTP/1.1\r\n");
        } finally {
            head.release();
        }
    }

    @Test
    void thePortalGetsTheVisitorsAddressBehindTheSecretAndKeepsItsCredentials() {
        String head = toPortal(
                get(
                        "/admin/",
                        "Host",
                        "ferry.example",
                        "Connection",
                        "keep-alive",
                        FrontDoor.PEER_HEADER,
                        "forged 6.6.6.6",
                        "Authorization",
                        "Basic dTpw",
                        "Cookie",
                        "FERRY_ADMIN=x",
                        "X-Forwarded-For",
                        "6.6.6.6"),
                false,
                DIRECT);

        assertThat(head)
                .isEqualTo("GET /admin/ HTTP/1.1\r\n"
                        + "Host: ferry.example\r\n"
                        + "Authorization: Basic dTpw\r\n"
                        + "Cookie: FERRY_ADMIN=x\r\n"
                        + "X-Forwarded-For: 6.6.6.6\r\n"
                        + FrontDoor.PEER_HEADER + ": s3cret 192.0.2.7\r\n"
                        + "\r\n");
    }

    @Test
    void withoutHostThePortalGetsTheFrontDoorsAddressAndPort() {
        RequestHeadWriter.Visitor v6 = new RequestHeadWriter.Visitor("::1", new InetSocketAddress("::1", 9000), 9000);

        assertThat(toPortal(get("/"), false, DIRECT)).contains("Host: 127.0.0.1:8080\r\n");
        assertThat(toPortal(get("/"), false, v6)).contains("Host: [0:0:0:0:0:0:0:1]:9000\r\n");
    }

    @Test
    void anUpgradeToThePortalKeepsTheProtocolAskedFor() {
        String head = toPortal(
                get("/user/gone/api/kernels/k/channels", "Host", "h", "Connection", "Upgrade", "Upgrade", "WebSocket"),
                true,
                DIRECT);

        assertThat(head).endsWith("Connection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n");
    }

    @Test
    void aPlainRequestToThePortalAsksNoUpgrade() {
        String head = toPortal(get("/", "Host", "h", "Connection", "Upgrade", "Upgrade", "websocket"), false, DIRECT);

        assertThat(head).doesNotContainIgnoringCase("upgrade").doesNotContain("Connection");
    }
}
