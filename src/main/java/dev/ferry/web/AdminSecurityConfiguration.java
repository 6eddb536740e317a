package dev.ferry.web;

import java.util.List;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.DelegatingFilterProxyRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * Spring Security guards the operator's pages only ({@code /admin/**}, {@code /api/admin/**}): HTTP Basic with the
 * credentials from {@code ferry.admin.*}. The security filter is not even registered for other paths, so the launch
 * pages, the build API and the proxy's hot path pay nothing for it (and its firewall does not reject the encoded
 * slashes that git links carry).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(AdminProperties.class)
class AdminSecurityConfiguration {

    static final List<String> GUARDED = List.of("/admin/*", "/api/admin/*");

    @Bean
    SecurityFilterChain adminSecurity(HttpSecurity http, AdminProperties admin) throws Exception {
        http.securityMatcher("/admin/**", "/api/admin/**")
                .httpBasic(Customizer.withDefaults())
                // JSON API calls cannot come from a cross-site form: they need no CSRF token (pages' forms do)
                .csrf(c -> c.ignoringRequestMatchers(req -> req.getContentType() != null
                        && req.getContentType().startsWith("application/json")))
                .headers(h -> h.contentSecurityPolicy(csp -> csp.policyDirectives(
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")));
        if (admin.enabled()) {
            http.authorizeHttpRequests(a -> a.anyRequest().hasRole("ADMIN"));
        } else {
            http.authorizeHttpRequests(a -> a.anyRequest().denyAll())
                    .exceptionHandling(e -> e.authenticationEntryPoint((req, resp, ex) -> disabled(resp))
                            .accessDeniedHandler((req, resp, ex) -> disabled(resp)));
        }
        return http.build();
    }

    private static void disabled(jakarta.servlet.http.HttpServletResponse resp) throws java.io.IOException {
        resp.setStatus(404);
        resp.setContentType("text/plain;charset=UTF-8");
        resp.getWriter().write("The operator dashboard is off: its operator has not set ferry.admin.password.\n");
    }

    @Bean
    UserDetailsService adminUsers(AdminProperties admin) {
        if (!admin.enabled()) {
            return new InMemoryUserDetailsManager();
        }
        String stored = admin.password().startsWith("{") ? admin.password() : "{noop}" + admin.password();
        return new InMemoryUserDetailsManager(User.withUsername(admin.username()).password(stored).passwordEncoder(s -> s)
                .roles("ADMIN").build());
    }

    /** Plain passwords compared in constant time, hashed ones by their encoder. */
    @Bean
    PasswordEncoder adminPasswordEncoder() {
        return new AdminPasswordEncoder();
    }

    /** Registers Spring Security's filter for the guarded paths only (Boot registers it for every path). */
    @Bean
    static BeanPostProcessor securityFilterOnAdminPathsOnly() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessBeforeInitialization(Object bean, String beanName) throws BeansException {
                if (bean instanceof DelegatingFilterProxyRegistrationBean registration
                        && "securityFilterChainRegistration".equals(beanName)) {
                    registration.setUrlPatterns(GUARDED);
                }
                return bean;
            }
        };
    }
}
