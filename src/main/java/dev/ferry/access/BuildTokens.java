package dev.ferry.access;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Short-lived signed tokens that Ferry's own launch page passes to the build API (BinderHub's build tokens): a human
 * who clicked a badge is never rate-limited, while a script calling the API directly is. A token names the launch
 * link it was issued for, the client address it was issued to, when it expires and a random nonce, signed with
 * HMAC-SHA256; it starts at most {@code uses} launches. Only the nonces of tokens used are remembered (until they
 * expire), so that a token copied out of a page is worth one launch, from the address that loaded the page.
 */
final class BuildTokens {

    /** The most spent nonces remembered; beyond it the oldest are forgotten (their tokens may be used again). */
    static final int MAX_REMEMBERED = 100_000;

    private final byte[] key;
    private final Duration lifetime;
    private final int uses;
    private final SecureRandom random = new SecureRandom();
    /** Nonce → {uses so far, expiry in epoch seconds}, in the order first used (so also roughly by expiry). */
    private final Map<String, long[]> spent = new LinkedHashMap<>();

    BuildTokens(String secret, Duration lifetime, int uses) {
        if (secret == null || secret.isBlank()) {
            this.key = new byte[32];
            random.nextBytes(this.key);
        } else {
            this.key = secret.getBytes(StandardCharsets.UTF_8);
        }
        this.lifetime = lifetime;
        this.uses = Math.max(1, uses);
    }

    /** A token for {@code <provider>/<spec>} issued to {@code client}, valid for the configured lifetime. */
    String issue(String launch, String client, Instant now) {
        long expires = now.plus(lifetime).getEpochSecond();
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        String nonce = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        return expires + "." + nonce + "." + sign(launch, client, expires, nonce);
    }

    /**
     * Whether {@code token} was issued for this launch to this client and has not expired nor been used up; if so, one
     * of its uses is spent.
     */
    boolean redeem(String token, String launch, String client, Instant now) {
        if (token == null || token.length() > 200) {
            return false;
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || !parts[1].matches("[A-Za-z0-9_-]{16,43}")) {
            return false;
        }
        long expires;
        try {
            expires = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            return false;
        }
        if (now.getEpochSecond() > expires) {
            return false;
        }
        byte[] expected = sign(launch, client, expires, parts[1]).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, parts[2].getBytes(StandardCharsets.US_ASCII))) {
            return false;
        }
        return spend(parts[1], expires, now.getEpochSecond());
    }

    private synchronized boolean spend(String nonce, long expires, long nowSeconds) {
        for (Iterator<long[]> it = spent.values().iterator(); it.hasNext(); ) {
            if (it.next()[1] >= nowSeconds) {
                break; // the rest were used later, so expire later (the lifetime is the same for all)
            }
            it.remove();
        }
        long[] used = spent.get(nonce);
        if (used == null) {
            if (spent.size() >= MAX_REMEMBERED) {
                Iterator<long[]> eldest = spent.values().iterator();
                eldest.next();
                eldest.remove();
            }
            spent.put(nonce, new long[] {1, expires});
            return true;
        }
        if (used[0] >= uses) {
            return false;
        }
        used[0]++;
        return true;
    }

    private String sign(String launch, String client, long expires, String nonce) {
        String text = launch + "\n" + client + "\n" + expires + "\n" + nonce;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
