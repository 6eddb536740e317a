package dev.ferry.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.tomcat.util.buf.MessageBytes;
import org.apache.tomcat.util.http.MimeHeaders;

/**
 * Behind the {@link FrontDoor}, every connection to the servlet container comes from loopback: this valve, first in
 * Tomcat's engine, gives each request the visitor's address back from the front door's header, and its scheme when the
 * front door terminated TLS ({@code <secret> <address> https}), so that redirects, links and {@code Secure} cookies
 * are what they were with TLS in Tomcat. The header is believed only with the secret the front door made at start, and
 * removed either way, so neither a visitor nor a local process can choose the address or scheme the portal sees (rate
 * limits, bans and the trusted-proxy rules work on them).
 */
final class FrontDoorPeerValve extends ValveBase {

    private final byte[] secret;

    FrontDoorPeerValve(String secret) {
        super(true);
        this.secret = secret.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        MimeHeaders headers = request.getCoyoteRequest().getMimeHeaders();
        MessageBytes value = headers.getValue(FrontDoor.PEER_HEADER);
        if (value != null) {
            String peer = value.toString();
            headers.removeHeader(FrontDoor.PEER_HEADER);
            String[] parts = peer == null ? new String[0] : peer.trim().split(" ");
            if (parts.length >= 2 && MessageDigest.isEqual(secret, parts[0].getBytes(StandardCharsets.US_ASCII))) {
                request.setRemoteAddr(parts[1]);
                request.setRemoteHost(parts[1]);
                if (parts.length == 3 && parts[2].equals("https")) {
                    secure(request);
                }
            }
        }
        getNext().invoke(request, response);
    }

    /** The visitor used https: the scheme, and the port a Host header without one means. */
    private static void secure(Request request) {
        request.setSecure(true);
        request.getCoyoteRequest().scheme().setString("https");
        String host = request.getHeader("Host");
        boolean portGiven = host != null && host.lastIndexOf(':') > host.lastIndexOf(']');
        if (!portGiven) {
            request.setServerPort(443);
        }
    }
}
