package dev.ferry.repo;

import java.util.regex.Pattern;

/** Helpers for showing URLs that strangers typed: never show credentials, never show control characters. */
public final class Urls {

    private static final Pattern USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\\s]*@");
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cntrl}\\u2028\\u2029]");

    private Urls() {}

    /**
     * The URL (or any text containing URLs) with every {@code user:password@} part replaced by {@code ***@}, and
     * control characters removed.
     */
    public static String redact(String url) {
        if (url == null) {
            return "";
        }
        String shown = USER_INFO.matcher(url).replaceAll("$1***@");
        return printable(shown);
    }

    /** The text with control characters replaced by {@code ?} and cut to a length that fits in a sentence. */
    public static String printable(String text) {
        if (text == null) {
            return "";
        }
        String clean = CONTROL.matcher(text).replaceAll("?");
        return clean.length() > 300 ? clean.substring(0, 300) + "…" : clean;
    }
}
