package dev.ferry.web;

import java.io.IOException;
import java.util.Collections;
import java.util.List;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

import dev.ferry.access.ClientAddresses;

/**
 * Marks a request as https when one of {@code ferry.trusted-proxies} (an ingress terminating TLS) says the visitor used
 * https ({@code X-Forwarded-Proto}, the nearest proxy's value): the container then makes the admin session cookie
 * {@code Secure}, as it does by itself when Ferry terminates TLS. From anyone else the header changes nothing.
 */
final class TrustedHttpsValve extends ValveBase {

    private final ClientAddresses addresses;

    TrustedHttpsValve(ClientAddresses addresses) {
        super(true);
        this.addresses = addresses;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (!request.isSecure()
                && addresses.trusts(request.getRemoteAddr())
                && nearestSaysHttps(Collections.list(request.getHeaders("X-Forwarded-Proto")))) {
            request.setSecure(true);
        }
        getNext().invoke(request, response);
    }

    static boolean nearestSaysHttps(List<String> lines) {
        if (lines.isEmpty()) {
            return false;
        }
        String last = lines.get(lines.size() - 1);
        return last.substring(last.lastIndexOf(',') + 1).trim().equalsIgnoreCase("https");
    }
}
