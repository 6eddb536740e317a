package dev.ferry.web;

import java.util.List;

import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * Checks the operator's login form against {@code ferry.admin.*}. The password is kept only as a hash: a configured
 * {@code {bcrypt}…} (or other encoded) value as it is, plain text hashed with bcrypt once here, so every check costs
 * the same bcrypt comparison and the plain text is not held by the check. Throttling happens before this is asked
 * ({@link LoginThrottle}).
 */
final class AdminLogin implements AuthenticationProvider {

    static final String WRONG = "The user name or password is wrong.";
    private static final String PLAIN = "{noop}";

    private final String username;
    private final String hash;
    private final PasswordEncoder encoder;

    AdminLogin(AdminProperties admin, PasswordEncoder encoder) {
        this.username = admin.username();
        this.encoder = encoder;
        this.hash = admin.enabled() ? stored(admin.password(), encoder) : null;
    }

    private static String stored(String configured, PasswordEncoder encoder) {
        if (configured.startsWith(PLAIN)) {
            return encoder.encode(configured.substring(PLAIN.length()));
        }
        return configured.startsWith("{") ? configured : encoder.encode(configured);
    }

    @Override
    public Authentication authenticate(Authentication login) {
        String name = login.getName() == null ? "" : login.getName();
        Object password = login.getCredentials();
        // both compared every time, so that the time taken says nothing about which one was wrong
        boolean nameRight = AdminPasswordEncoder.constantTimeEquals(name, username);
        boolean passwordRight = hash != null && password != null && encoder.matches(password.toString(), hash);
        if (!(nameRight && passwordRight)) {
            throw new BadCredentialsException(WRONG);
        }
        return UsernamePasswordAuthenticationToken.authenticated(
                username, null, List.of(new SimpleGrantedAuthority("ROLE_ADMIN")));
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return UsernamePasswordAuthenticationToken.class.isAssignableFrom(authentication);
    }
}
