package dev.ferry.web;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The operator dashboard's login ({@code ferry.admin.*}). There is no default password: without one the dashboard and
 * its API are off.
 *
 * @param username                     the operator's user name
 * @param password                     the operator's password; {@code {bcrypt}…} (recommended) or any Spring Security
 *                                     encoded form, or plain text (hashed with bcrypt at start)
 * @param maxFailedLogins              login attempts from all addresses together per {@code failedLoginWindow} before
 *                                     every further attempt is refused (429): bounds guessing from many addresses
 * @param maxFailedLoginsPerAddress    login attempts one client address may make per {@code failedLoginWindow} before
 *                                     its further attempts are refused (429) without checking the password; a
 *                                     successful login gives its address's attempts back
 * @param failedLoginWindow            the window both limits count in
 */
@ConfigurationProperties("ferry.admin")
public record AdminProperties(
        @DefaultValue("admin") String username,
        @DefaultValue("") String password,
        @DefaultValue("10") int maxFailedLoginsPerAddress,
        @DefaultValue("100") int maxFailedLogins,
        @DefaultValue("15m") Duration failedLoginWindow) {

    public boolean enabled() {
        return password != null && !password.isBlank();
    }
}
