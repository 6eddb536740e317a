package dev.ferry.web;

import jakarta.servlet.http.HttpServletRequest;

import dev.ferry.FerryProperties;

/** Ferry's address as the visitor sees it: {@code ferry.public-url} when set, else the request's scheme and host. */
final class PublicUrls {

    private PublicUrls() {}

    static String base(HttpServletRequest request, FerryProperties properties) {
        String configured = properties.publicUrl();
        if (configured != null && !configured.isBlank()) {
            return configured.endsWith("/") ? configured.substring(0, configured.length() - 1) : configured;
        }
        String scheme = request.getScheme();
        int port = request.getServerPort();
        boolean defaultPort = (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
        String host = request.getServerName();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return scheme + "://" + host + (defaultPort ? "" : ":" + port) + request.getContextPath();
    }
}
