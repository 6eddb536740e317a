package dev.ferry.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * Checks the operator's password: hashed forms ({@code {bcrypt}…}, {@code {pbkdf2}…}) by Spring Security's encoders;
 * {@link #encode} makes {@code {bcrypt}…} (what {@link AdminLogin} turns a plain configured password into at start).
 * A {@code {noop}…} value, should one reach it, is compared in constant time: Spring's {@code NoOpPasswordEncoder}
 * uses {@code String.equals}, whose time tells how many leading characters of a guess were right.
 */
final class AdminPasswordEncoder implements PasswordEncoder {

    private static final String PLAIN = "{noop}";
    private final PasswordEncoder hashed = PasswordEncoderFactories.createDelegatingPasswordEncoder();

    @Override
    public String encode(CharSequence rawPassword) {
        return hashed.encode(rawPassword);
    }

    @Override
    public boolean matches(CharSequence rawPassword, String encodedPassword) {
        if (rawPassword == null || encodedPassword == null) {
            return false;
        }
        if (encodedPassword.startsWith(PLAIN)) {
            return constantTimeEquals(rawPassword.toString(), encodedPassword.substring(PLAIN.length()));
        }
        return hashed.matches(rawPassword, encodedPassword);
    }

    /** Compares digests, so that neither the content nor the length of the secret shows in the time taken. */
    static boolean constantTimeEquals(String a, String b) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] da = sha.digest(a.getBytes(StandardCharsets.UTF_8));
            byte[] db = sha.digest(b.getBytes(StandardCharsets.UTF_8));
            return MessageDigest.isEqual(da, db);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
