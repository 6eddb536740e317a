package dev.ferry.platform.kubernetes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge from a {@code WWW-Authenticate} header (RFC 7235), e.g.
 * {@code Bearer realm="https://auth.example.org/token",service="registry",scope="repository:a/b:pull"}.
 *
 * @param scheme the authentication scheme as sent ({@code Basic}, {@code Bearer}, …)
 * @param params the auth-params, names lower-cased, quoted values unquoted
 */
record AuthChallenge(String scheme, Map<String, String> params) {

    AuthChallenge {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    boolean is(String name) {
        return scheme.equalsIgnoreCase(name);
    }

    /** The parameter's value, or null; names are case-insensitive. */
    String param(String name) {
        return params.get(name.toLowerCase(Locale.ROOT));
    }

    /** Every challenge in these header values (a value may hold several, separated by commas). */
    static List<AuthChallenge> parseAll(List<String> headerValues) {
        List<AuthChallenge> challenges = new ArrayList<>();
        for (String value : headerValues) {
            challenges.addAll(new Parser(value).challenges());
        }
        return challenges;
    }

    /**
     * A parser for RFC 7235's grammar: {@code challenge = scheme [ token68 / #( name = ( token / quoted-string ) ) ]},
     * challenges separated by commas. A comma therefore ends either a parameter or a challenge; which one is decided
     * by whether a {@code name=} follows.
     */
    private static final class Parser {

        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        List<AuthChallenge> challenges() {
            List<AuthChallenge> out = new ArrayList<>();
            while (true) {
                skip(" \t,");
                if (i >= s.length()) {
                    return out;
                }
                String scheme = token();
                if (scheme.isEmpty()) {
                    throw new IllegalArgumentException("unexpected '" + s.charAt(i) + "' where a scheme should start");
                }
                Map<String, String> params = new LinkedHashMap<>();
                skip(" \t");
                if (!token68()) {
                    params(params);
                }
                out.add(new AuthChallenge(scheme, params));
            }
        }

        /** Skips a token68 (e.g. {@code Negotiate abc==}) if one follows; its value is not needed. */
        private boolean token68() {
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || "-._~+/".indexOf(s.charAt(i)) >= 0)) {
                i++;
            }
            int body = i;
            while (i < s.length() && s.charAt(i) == '=') {
                i++;
            }
            skip(" \t");
            if (body > start && (i >= s.length() || s.charAt(i) == ',')) {
                return true;
            }
            i = start;
            return false;
        }

        private void params(Map<String, String> params) {
            while (true) {
                skip(" \t");
                int start = i;
                String name = token();
                skip(" \t");
                if (name.isEmpty() || i >= s.length() || s.charAt(i) != '=') {
                    i = start; // not a parameter: the next challenge (or the end) starts here
                    return;
                }
                i++;
                skip(" \t");
                String value = i < s.length() && s.charAt(i) == '"' ? quoted() : bareValue();
                params.put(name.toLowerCase(Locale.ROOT), value);
                skip(" \t");
                if (i >= s.length()) {
                    return;
                }
                if (s.charAt(i) != ',') {
                    throw new IllegalArgumentException("expected ',' after parameter '" + name + "'");
                }
                i++;
                skip(" \t,");
            }
        }

        private String token() {
            int start = i;
            while (i < s.length() && isTokenChar(s.charAt(i))) {
                i++;
            }
            return s.substring(start, i);
        }

        /**
         * An unquoted value. RFC 7235 allows only a token here, but some servers send {@code realm=https://…}
         * unquoted; a value cannot hold a comma or a space unquoted, so it ends at either.
         */
        private String bareValue() {
            int start = i;
            while (i < s.length() && s.charAt(i) != ',' && s.charAt(i) != ' ' && s.charAt(i) != '\t') {
                i++;
            }
            return s.substring(start, i);
        }

        private String quoted() {
            StringBuilder value = new StringBuilder();
            i++;
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return value.toString();
                }
                if (c == '\\' && i < s.length()) {
                    c = s.charAt(i++);
                }
                value.append(c);
            }
            throw new IllegalArgumentException("a quoted value is not closed");
        }

        private void skip(String chars) {
            while (i < s.length() && chars.indexOf(s.charAt(i)) >= 0) {
                i++;
            }
        }

        private static boolean isTokenChar(char c) {
            return c < 128 && (Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
        }
    }
}
