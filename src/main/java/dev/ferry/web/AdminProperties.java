package dev.ferry.web;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The operator dashboard's credentials ({@code ferry.admin.*}). There is no default password: without one the
 * dashboard and the admin API are off.
 *
 * @param username the operator's user name
 * @param password the operator's password; {@code {bcrypt}…} (recommended) or any Spring Security encoded form, or
 *                 plain text
 */
@ConfigurationProperties("ferry.admin")
public record AdminProperties(@DefaultValue("admin") String username, @DefaultValue("") String password) {

    public boolean enabled() {
        return password != null && !password.isBlank();
    }
}
