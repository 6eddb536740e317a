package dev.ferry.web;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Short-lived signed tokens that Ferry's own launch page passes to the build API (BinderHub's build tokens): a human
 * who clicked a badge is never rate-limited, while a script calling the API directly is. A token names the launch
 * link it was issued for and when it expires, signed with HMAC-SHA256.
 */
final class BuildTokens {

    private final byte[] key;
    private final Duration lifetime;

    BuildTokens(String secret, Duration lifetime) {
        if (secret == null || secret.isBlank()) {
            this.key = new byte[32];
            new SecureRandom().nextBytes(this.key);
        } else {
            this.key = secret.getBytes(StandardCharsets.UTF_8);
        }
        this.lifetime = lifetime;
    }

    /** A token for {@code <provider>/<spec>}, valid for the configured lifetime. */
    String issue(String launch, Instant now) {
        long expires = now.plus(lifetime).getEpochSecond();
        return expires + "." + sign(launch + "\n" + expires);
    }

    boolean valid(String token, String launch, Instant now) {
        if (token == null || token.length() > 200) {
            return false;
        }
        int dot = token.indexOf('.');
        if (dot <= 0) {
            return false;
        }
        try {
            long expires = Long.parseLong(token.substring(0, dot));
            if (now.getEpochSecond() > expires) {
                return false;
            }
            byte[] expected = sign(launch + "\n" + expires).getBytes(StandardCharsets.US_ASCII);
            return MessageDigest.isEqual(expected, token.substring(dot + 1).getBytes(StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private String sign(String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
