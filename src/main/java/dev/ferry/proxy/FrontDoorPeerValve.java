package dev.ferry.proxy;

import java.io.IOException;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.tomcat.util.buf.MessageBytes;
import org.apache.tomcat.util.http.MimeHeaders;

/**
 * Behind the {@link FrontDoor}, every connection to the servlet container comes from loopback: this valve, first in
 * Tomcat's engine, gives each request the visitor's address back from the front door's header. The header
 * is believed only with the secret the front door made at start, and removed either way, so neither a visitor nor a
 * local process can choose the address the portal sees (rate limits, bans and the trusted-proxy rules work on it).
 */
final class FrontDoorPeerValve extends ValveBase {

    private final byte[] secret;

    FrontDoorPeerValve(String secret) {
        super(true);
        this.secret = secret.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        MimeHeaders headers = request.getCoyoteRequest().getMimeHeaders();
        MessageBytes value = headers.getValue(FrontDoor.PEER_HEADER);
        if (value != null) {
            String peer = value.toString();
            headers.removeHeader(FrontDoor.PEER_HEADER);
            int space = peer == null ? -1 : peer.indexOf(' ');
            if (space > 0 && java.security.MessageDigest.isEqual(secret,
                    peer.substring(0, space).getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
                String address = peer.substring(space + 1).trim();
                request.setRemoteAddr(address);
                request.setRemoteHost(address);
            }
        }
        getNext().invoke(request, response);
    }
}
