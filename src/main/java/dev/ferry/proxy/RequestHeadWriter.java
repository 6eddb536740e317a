package dev.ferry.proxy;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import dev.ferry.access.ClientAddresses;

/**
 * Writes a visitor's request head as its server gets it: for a session's notebook server, without hop-by-hop headers,
 * the portal's credentials and whatever forwarding headers the visitor made up, with Ferry's own {@code X-Forwarded-*};
 * for the portal, with the visitor's address in the {@linkplain FrontDoor#PEER_HEADER peer header}. The head is
 * changed in place (the visitor's is not needed again) and written byte for byte: every character Netty's decoder made
 * of a byte goes back as that byte. (Netty's encoder writes a request target's characters as UTF-8, which turned the
 * two bytes of "é" in a query into four.) A plain object the visitor's connection calls, not a pipeline handler.
 */
final class RequestHeadWriter {

    private static final byte[] HTTP_11_LINE = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final short CRLF = ResponseReader.CRLF;
    private static final short COLON_SPACE = (':' << 8) | ' ';

    /** Hop-by-hop and forwarding headers that never pass to a notebook server as the visitor sent them. */
    private static final List<AsciiString> NOT_TO_SESSION = names(
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "upgrade",
            "proxy-authenticate",
            "proxy-authorization",
            "expect",
            "x-forwarded-for",
            "x-forwarded-proto",
            "x-forwarded-host",
            "x-forwarded-port",
            "x-real-ip",
            "forwarded",
            FrontDoor.PEER_HEADER);
    /** Connection-level headers the portal must not see from the visitor (it sees the front door's connection). */
    private static final List<AsciiString> NOT_TO_PORTAL =
            names("connection", "keep-alive", "proxy-connection", "te", "upgrade", "expect", FrontDoor.PEER_HEADER);
    /** Never removed because a Connection header names them: they frame the message or route it. */
    static final Set<String> FRAMING = Set.of("close", "keep-alive", "content-length", "transfer-encoding", "host");

    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    private static final AsciiString X_REAL_IP = AsciiString.cached("X-Real-IP");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
    private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("X-Forwarded-Port");

    /**
     * Who sent the request: the connection's peer address, the front door's address it reached, and the front door's
     * port (the Host header's default); {@code tls}: the connection came over TLS the front door terminated.
     */
    record Visitor(String address, InetSocketAddress local, int doorPort, boolean tls) {

        Visitor(String address, InetSocketAddress local, int doorPort) {
            this(address, local, doorPort, false);
        }
    }

    private final ClientAddresses clients;
    private final String secret;

    /** {@code clients}: whose forwarding headers are believed; {@code secret}: what proves the peer header to the portal. */
    RequestHeadWriter(ClientAddresses clients, String secret) {
        this.clients = clients;
        this.secret = secret;
    }

    /** The head as a session's server gets it; {@code upgrade}: it asks for a WebSocket the front door tunnels. */
    ByteBuf toSession(HttpRequest request, boolean upgrade, Visitor visitor, ByteBufAllocator alloc) {
        HttpHeaders headers = request.headers();
        String host = headers.get(HttpHeaderNames.HOST);
        String remote = visitor.address();
        boolean secure = visitor.tls();
        if (!secure && clients.trusts(visitor.address())) {
            // behind a proxy of the operator's (an ingress terminating TLS): the visitor as that proxy saw them
            remote = clients.of(visitor.address(), headers.getAll(X_FORWARDED_FOR));
            List<String> protos = headers.getAll(X_FORWARDED_PROTO);
            String proto = protos.isEmpty() ? "" : protos.get(protos.size() - 1);
            proto = proto.substring(proto.lastIndexOf(',') + 1); // the nearest proxy's
            secure = proto.trim().toLowerCase(Locale.ROOT).startsWith("https");
        }
        stripHopByHop(headers, NOT_TO_SESSION);
        stripPortalCredentials(headers);
        headers.add(X_FORWARDED_FOR, remote);
        headers.add(X_REAL_IP, remote);
        headers.add(X_FORWARDED_PROTO, upgrade ? (secure ? "wss" : "ws") : (secure ? "https" : "http"));
        if (host != null) {
            headers.add(X_FORWARDED_HOST, host);
        }
        headers.add(X_FORWARDED_PORT, hostPort(host, secure, visitor.doorPort()));
        if (upgrade) {
            headers.add("Connection", "Upgrade");
            headers.add("Upgrade", "websocket");
        }
        return encode(request, alloc);
    }

    /** The head as the portal gets it: the visitor's headers, with the visitor's address in the peer header. */
    ByteBuf toPortal(HttpRequest request, boolean upgrade, Visitor visitor, ByteBufAllocator alloc) {
        HttpHeaders headers = request.headers();
        String upgradeTo = upgrade ? headers.get(HttpHeaderNames.UPGRADE) : null;
        stripHopByHop(headers, NOT_TO_PORTAL);
        if (!headers.contains(HttpHeaderNames.HOST)) {
            String address = visitor.local().getAddress().getHostAddress();
            headers.add("Host", (address.contains(":") ? "[" + address + "]" : address) + ":" + visitor.doorPort());
        }
        // the portal believes the address (and https, when the front door terminated TLS) only with the secret
        headers.set(FrontDoor.PEER_HEADER, secret + " " + visitor.address() + (visitor.tls() ? " https" : ""));
        if (upgradeTo != null) {
            headers.add("Connection", "Upgrade");
            headers.add("Upgrade", upgradeTo);
        }
        return encode(request, alloc);
    }

    /** The request line and header fields, one line each, then the empty line; always as HTTP/1.1. */
    private static ByteBuf encode(HttpRequest request, ByteBufAllocator alloc) {
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        ByteBuf out = alloc.buffer(256 + request.uri().length());
        ByteBufUtil.copy(request.method().asciiName(), out);
        out.writeByte(' ');
        writeLatin1(out, request.uri());
        out.writeBytes(HTTP_11_LINE);
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it =
                        request.headers().iteratorCharSequence();
                it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            writeLatin1(out, field.getKey());
            out.writeShort(COLON_SPACE);
            writeLatin1(out, field.getValue());
            out.writeShort(CRLF);
        }
        out.writeShort(CRLF);
        return out;
    }

    private static void writeLatin1(ByteBuf out, CharSequence text) {
        if (text instanceof AsciiString ascii) {
            ByteBufUtil.copy(ascii, out); // (its bytes, as they came)
        } else {
            out.writeCharSequence(text, StandardCharsets.ISO_8859_1);
        }
    }

    /** The port the visitor addressed: the Host header's, else the scheme's default (no Host: the front door's). */
    private static String hostPort(String host, boolean secure, int doorPort) {
        if (host == null) {
            return Integer.toString(doorPort);
        }
        int colon = host.lastIndexOf(':');
        if (colon > 0 && colon > host.lastIndexOf(']') && colon < host.length() - 1) {
            boolean digits = true;
            for (int i = colon + 1; i < host.length() && digits; i++) {
                digits = Character.isDigit(host.charAt(i));
            }
            if (digits) {
                return host.substring(colon + 1);
            }
        }
        return secure ? "443" : "80";
    }

    private static Set<String> connectionTokens(HttpHeaders headers) {
        HashSet<String> tokens = new HashSet<>();
        for (String token : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String part : token.split(",")) {
                tokens.add(part.trim().toLowerCase(Locale.ROOT));
            }
        }
        return tokens;
    }

    private static void stripHopByHop(HttpHeaders headers, List<AsciiString> names) {
        String connection = headers.get(HttpHeaderNames.CONNECTION);
        if (connection != null && !connection.equalsIgnoreCase("keep-alive") && !connection.equalsIgnoreCase("close")) {
            for (String token : connectionTokens(headers)) {
                if (!FRAMING.contains(token)) { // "Connection: content-length" must not unframe a message
                    headers.remove(token);
                }
            }
        }
        for (int i = 0; i < names.size(); i++) {
            headers.remove(names.get(i));
        }
    }

    /** The portal's cookies and every {@code Authorization} but Jupyter's token stay here ({@link PortalCredentials}). */
    private static void stripPortalCredentials(HttpHeaders headers) {
        List<String> authorizations = headers.getAll(HttpHeaderNames.AUTHORIZATION);
        if (!authorizations.isEmpty() && !authorizations.stream().allMatch(PortalCredentials::isJupyterToken)) {
            headers.remove(HttpHeaderNames.AUTHORIZATION);
            authorizations.stream()
                    .filter(PortalCredentials::isJupyterToken)
                    .forEach(a -> headers.add("Authorization", a));
        }
        List<String> cookies = headers.getAll(HttpHeaderNames.COOKIE);
        for (String cookie : cookies) {
            if (PortalCredentials.sessionCookies(cookie) != cookie) { // (the same string when nothing was taken out)
                headers.remove(HttpHeaderNames.COOKIE);
                cookies.stream()
                        .map(PortalCredentials::sessionCookies)
                        .filter(Objects::nonNull)
                        .forEach(c -> headers.add("Cookie", c));
                return;
            }
        }
    }

    private static List<AsciiString> names(String... names) {
        return Arrays.stream(names).map(AsciiString::cached).toList();
    }
}
