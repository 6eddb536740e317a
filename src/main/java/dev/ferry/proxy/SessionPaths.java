package dev.ferry.proxy;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;

import dev.ferry.Durations;

/**
 * The rules of session paths ({@code /user/<id>/…}) and the sentences their errors are answered with, in one place:
 * the front door relays by them, the portal answers what the front door does not relay.
 */
final class SessionPaths {

    static final String PREFIX = "/user/";
    private static final Pattern DOT_SEGMENT = Pattern.compile("(^|/)(\\.|%2e){1,2}(/|$)", Pattern.CASE_INSENSITIVE);

    static final String NOT_ACCEPTING = "The notebook server of this session is not accepting connections. It may have "
            + "stopped; launch the repository again if this persists.";
    static final String NO_PROPER_ANSWER = "The notebook server of this session did not answer properly. Try again; "
            + "launch the repository again if this persists.";
    static final String NOT_ACCEPTED = "Paths with . or .. segments, backslashes or semicolons are not accepted.";

    private SessionPaths() {}

    static String timedOut(Duration readTimeout) {
        return "The notebook server of this session did not answer within " + Durations.human(readTimeout)
                + ". It may be busy with a long computation or stuck; try again, and launch the repository again if "
                + "this persists.";
    }

    /** {@code .} or {@code ..} as a path segment, also %-encoded: never passed on (they could climb to another session). */
    static boolean hasDotSegment(String path) {
        if (path.indexOf("/.") < 0 && path.indexOf('%') < 0) {
            return false; // the common case, without a regular expression
        }
        return DOT_SEGMENT.matcher(path).find();
    }

    /**
     * A path the front door relays as it is: no dot segments, and none of the characters the servlet container reads
     * differently from a notebook server (a backslash, also encoded; a semicolon; controls, spaces, raw non-ASCII).
     */
    static boolean relayable(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '\\' || c == ';') {
                return false;
            }
        }
        return !hasDotSegment(path)
                && !(path.indexOf('%') >= 0 && path.toLowerCase(Locale.ROOT).contains("%5c"));
    }

    static boolean isWebSocketUpgrade(String upgradeHeader) {
        return upgradeHeader != null && upgradeHeader.toLowerCase(Locale.ROOT).contains("websocket");
    }

    /** Methods RFC 9110 (9.2.2) lets a client or proxy send again when a connection closed before the answer. */
    static boolean idempotent(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
            default -> false;
        };
    }

    /** {@code {"message": "…"}}, as the portal's JSON errors are. */
    static String jsonMessage(String message) {
        StringBuilder out = new StringBuilder(message.length() + 32).append("{\"message\":\"");
        for (char c : message.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '<' -> out.append("\\u003c");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append("\"}").toString();
    }
}
