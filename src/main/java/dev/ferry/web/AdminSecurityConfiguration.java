package dev.ferry.web;

import java.io.IOException;
import java.time.Clock;
import java.util.List;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.SessionCookieConfig;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.DelegatingFilterProxyRegistrationBean;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.SavedRequestAwareAuthenticationSuccessHandler;
import org.springframework.security.web.authentication.UsernamePasswordAuthenticationFilter;
import org.springframework.security.web.authentication.logout.CookieClearingLogoutHandler;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.ferry.access.AbuseProperties;
import dev.ferry.access.ClientAddresses;
import dev.ferry.proxy.PortalCredentials;

/**
 * Spring Security guards the operator's pages and their JSON API, all under {@code /admin}: a login form
 * ({@code /admin/login}) checked against {@code ferry.admin.*}, and a session cookie ({@code FERRY_ADMIN},
 * {@code Path=/admin}, {@code HttpOnly}, {@code SameSite=Strict}, {@code Secure} over https) that the browser sends
 * to the admin paths only — never to {@code /user/<session>/…}, where repositories' code answers. (HTTP Basic, used
 * before, made the browser send the password with every request to the origin, sessions included.) Login attempts
 * are throttled per address and overall before the password is hashed.
 *
 * <p>The security filter is not even registered for other paths, so the launch pages, the build API and the proxy's
 * hot path pay nothing for it (and its firewall does not reject the encoded slashes that git links carry).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(AdminProperties.class)
class AdminSecurityConfiguration {

    private static final Logger log = LoggerFactory.getLogger(AdminSecurityConfiguration.class);
    static final List<String> GUARDED = List.of("/admin/*");
    static final String COOKIE_PATH = "/admin";
    static final String LOGIN = "/admin/login";

    @Bean
    SecurityFilterChain adminSecurity(
            HttpSecurity http, AdminProperties admin, LoginThrottle throttle, AbuseProperties abuse) throws Exception {
        http.securityMatcher("/admin", "/admin/**")
                .httpBasic(b -> b.disable())
                // JSON API calls cannot come from a cross-site form: they need no CSRF token (pages' forms do). The
                // token lives in a cookie, not a session: anyone may load the login form, and that must not make a
                // server-side session each time (memory for the asking); only a login does.
                .csrf(c -> c.csrfTokenRepository(csrfCookie())
                        .ignoringRequestMatchers(req -> req.getContentType() != null
                                && req.getContentType().startsWith("application/json")))
                .headers(h -> h.contentSecurityPolicy(csp -> csp.policyDirectives(
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")));
        if (!admin.enabled()) {
            http.authorizeHttpRequests(a -> a.anyRequest().denyAll())
                    .exceptionHandling(e -> e.authenticationEntryPoint((req, resp, ex) -> disabled(resp))
                            .accessDeniedHandler((req, resp, ex) -> disabled(resp)));
            return http.build();
        }
        ClientAddresses addresses = ClientAddresses.trusting(abuse.trustedProxies());
        // the page asked for before the login is remembered only in a session that already exists (none, usually)
        HttpSessionRequestCache requests = new HttpSessionRequestCache();
        requests.setCreateSessionAllowed(false);
        SavedRequestAwareAuthenticationSuccessHandler toDashboard = new SavedRequestAwareAuthenticationSuccessHandler();
        toDashboard.setDefaultTargetUrl("/admin");
        toDashboard.setRequestCache(requests);
        http.authorizeHttpRequests(
                        a -> a.requestMatchers(LOGIN).permitAll().anyRequest().hasRole("ADMIN"))
                .addFilterBefore(new ThrottleFilter(throttle, addresses), UsernamePasswordAuthenticationFilter.class)
                .formLogin(f -> f.loginPage(LOGIN)
                        .loginProcessingUrl(LOGIN)
                        .successHandler((req, resp, auth) -> {
                            throttle.succeeded(addresses.of(req));
                            log.info("Operator logged in from {}", addresses.of(req));
                            toDashboard.onAuthenticationSuccess(req, resp, auth);
                        })
                        .failureHandler((req, resp, ex) -> {
                            String from = addresses.of(req);
                            // the address only: what was typed (even the user name, often a mistyped password) is not
                            // logged
                            log.warn(
                                    "Failed operator login from {} ({} of {} attempts from there in this window)",
                                    from,
                                    throttle.failures(from),
                                    throttle.perAddress());
                            resp.sendRedirect(LOGIN + "?error");
                        }))
                .logout(l -> l.logoutUrl("/admin/logout")
                        .logoutSuccessUrl(LOGIN + "?logout")
                        .addLogoutHandler(new CookieClearingLogoutHandler(expiredSessionCookie())))
                .requestCache(r -> r.requestCache(requests))
                .exceptionHandling(e -> e.authenticationEntryPoint((req, resp, ex) -> notLoggedIn(req, resp)));
        return http.build();
    }

    /** A page load goes to the login form; an API call or event stream gets a sentence (and no Basic challenge). */
    private static void notLoggedIn(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String accept = req.getHeader("Accept");
        if ("GET".equals(req.getMethod()) && accept != null && accept.contains("text/html")) {
            resp.sendRedirect(LOGIN);
            return;
        }
        resp.setStatus(401);
        resp.setContentType("text/plain;charset=UTF-8");
        resp.getWriter().write("Log in to the operator dashboard first, at " + LOGIN + ".\n");
    }

    private static void disabled(HttpServletResponse resp) throws IOException {
        resp.setStatus(404);
        resp.setContentType("text/plain;charset=UTF-8");
        resp.getWriter().write("The operator dashboard is off: its operator has not set ferry.admin.password.\n");
    }

    /** Takes a login attempt from the throttle before the password is looked at; refuses with 429 when none is left. */
    private static final class ThrottleFilter extends OncePerRequestFilter {

        private final LoginThrottle throttle;
        private final ClientAddresses addresses;

        ThrottleFilter(LoginThrottle throttle, ClientAddresses addresses) {
            this.throttle = throttle;
            this.addresses = addresses;
        }

        @Override
        protected boolean shouldNotFilter(HttpServletRequest request) {
            return !("POST".equals(request.getMethod()) && LOGIN.equals(request.getServletPath()));
        }

        @Override
        protected void doFilterInternal(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
                throws ServletException, IOException {
            String from = addresses.of(req);
            LoginThrottle.Refusal refused = throttle.attempt(from);
            if (refused == null) {
                chain.doFilter(req, resp);
                return;
            }
            if (refused.first()) {
                log.warn(
                        "Refusing operator logins {} for {} s: too many failed logins {}",
                        refused.everyone() ? "from every address" : "from " + from,
                        refused.retryAfter().toSeconds(),
                        refused.everyone() ? "from all addresses together" : "from there");
            }
            resp.setStatus(429);
            resp.setHeader(
                    "Retry-After",
                    Long.toString(Math.max(1, refused.retryAfter().toSeconds())));
            resp.setContentType("text/plain;charset=UTF-8");
            resp.getWriter().write(refused.sentence() + "\n");
        }
    }

    @Bean
    LoginThrottle loginThrottle(AdminProperties admin) {
        if (admin.maxFailedLoginsPerAddress() < 1
                || admin.maxFailedLogins() < 1
                || admin.failedLoginWindow().isNegative()
                || admin.failedLoginWindow().isZero()) {
            throw new IllegalStateException(
                    "ferry.admin.max-failed-logins-per-address and ferry.admin.max-failed-logins "
                            + "must be at least 1, and ferry.admin.failed-login-window longer than zero.");
        }
        return new LoginThrottle(
                admin.maxFailedLoginsPerAddress(),
                admin.maxFailedLogins(),
                admin.failedLoginWindow(),
                Clock.systemUTC());
    }

    /** The one check of the operator's credentials (its presence also keeps Boot from making a default user). */
    @Bean
    AdminLogin adminLogin(AdminProperties admin, PasswordEncoder encoder) {
        return new AdminLogin(admin, encoder);
    }

    /** bcrypt for plain passwords given in configuration; any Spring Security encoded form for given hashes. */
    @Bean
    PasswordEncoder adminPasswordEncoder() {
        return new AdminPasswordEncoder();
    }

    /**
     * The container's session cookie is the operator's login (only the admin paths make sessions): sent back to the
     * admin paths only, out of scripts' reach, never on requests other sites start.
     */
    @Bean
    ServletContextInitializer adminSessionCookie() {
        return context -> {
            SessionCookieConfig cookie = context.getSessionCookieConfig();
            cookie.setName(PortalCredentials.ADMIN_SESSION_COOKIE);
            cookie.setPath(COOKIE_PATH);
            cookie.setHttpOnly(true);
            cookie.setAttribute("SameSite", "Strict");
            // Secure: the container adds it to a cookie made for an https request (see TrustedHttpsValve)
        };
    }

    /** Behind an ingress that terminates TLS, the admin cookie is still {@code Secure} ({@link TrustedHttpsValve}). */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> httpsBehindTrustedProxies(AbuseProperties abuse) {
        return factory ->
                factory.addContextValves(new TrustedHttpsValve(ClientAddresses.trusting(abuse.trustedProxies())));
    }

    private static CookieCsrfTokenRepository csrfCookie() {
        CookieCsrfTokenRepository csrf = new CookieCsrfTokenRepository();
        csrf.setCookieName(PortalCredentials.ADMIN_CSRF_COOKIE);
        csrf.setCookiePath(COOKIE_PATH);
        csrf.setCookieCustomizer(
                c -> c.httpOnly(true).sameSite("Strict")); // (Secure over https, as the repository does)
        return csrf;
    }

    private static Cookie expiredSessionCookie() {
        Cookie cookie = new Cookie(PortalCredentials.ADMIN_SESSION_COOKIE, "");
        cookie.setPath(COOKIE_PATH);
        cookie.setMaxAge(0);
        cookie.setHttpOnly(true);
        cookie.setAttribute("SameSite", "Strict");
        return cookie;
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
