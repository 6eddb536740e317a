package dev.ferry.session;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;

/** Session ids and tokens: 160 random bits from a secure source. Ids are DNS-label safe (lowercase base32). */
public final class SecureIds {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    private SecureIds() {}

    /** 32 characters of {@code [a-z2-7]}, starting with a letter. */
    public static String sessionId() {
        byte[] bytes = new byte[20];
        RANDOM.nextBytes(bytes);
        StringBuilder out = new StringBuilder(32);
        int buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (Character.isDigit(out.charAt(0))) {
            out.setCharAt(0, BASE32[out.charAt(0) - '2']);
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }

    /** A URL-safe token of 256 random bits. */
    public static String token() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
