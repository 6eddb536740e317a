package dev.ferry.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.test.annotation.DirtiesContext;

import dev.ferry.testing.AdminLogin;
import dev.ferry.testing.RawHttp;

/**
 * The operator's login: a form and a session cookie that only the admin paths see (HTTP Basic is not taken), and
 * guessing throttled per address and overall before any password hash is computed. Client addresses come from
 * {@code X-Forwarded-For}, believed because loopback is a trusted proxy here.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "ferry.platform=local",
            "ferry.admin.password=" + AdminLoginTest.PASSWORD,
            "ferry.admin.max-failed-logins-per-address=3",
            "ferry.admin.max-failed-logins=6",
            "ferry.trusted-proxies=127.0.0.1"
        })
@ExtendWith(OutputCaptureExtension.class)
class AdminLoginTest {

    static final String PASSWORD = "right-horse-battery";
    private static final String WRONG = "Tr0ub4dor&3-not-it";

    /** Counts password checks: a refused attempt must not cost one. */
    @TestConfiguration
    static class CountingEncoder {
        static final AtomicInteger CHECKS = new AtomicInteger();

        @Bean
        @Primary
        PasswordEncoder countingEncoder() {
            PasswordEncoder real = new AdminPasswordEncoder();
            return new PasswordEncoder() {
                @Override
                public String encode(CharSequence raw) {
                    return real.encode(raw);
                }

                @Override
                public boolean matches(CharSequence raw, String encoded) {
                    CHECKS.incrementAndGet();
                    return real.matches(raw, encoded);
                }
            };
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    PasswordEncoder encoder;

    private RawHttp.Response get(String path, String... headers) throws Exception {
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        return RawHttp.get(port, path, h);
    }

    private AdminLogin login(String from, String password) throws Exception {
        return login(from, password, Map.of());
    }

    /** The same login as AdminLogin.as, from a given address, with more headers on both requests. */
    private AdminLogin login(String from, String password, Map<String, String> more) throws Exception {
        Map<String, String> g = new LinkedHashMap<>(more);
        g.put("X-Forwarded-For", from);
        RawHttp.Response form = RawHttp.get(port, "/admin/login", g);
        String csrf = form.body().replaceFirst("(?s).*name=\"_csrf\" value=\"([^\"]+)\".*", "$1");
        Map<String, String> h = new LinkedHashMap<>(g);
        h.put("Content-Type", "application/x-www-form-urlencoded");
        h.put("Cookie", AdminLogin.cookies(form));
        RawHttp.Response r = RawHttp.send(
                port,
                "POST",
                "/admin/login",
                h,
                "username=admin&password=" + java.net.URLEncoder.encode(password, StandardCharsets.UTF_8) + "&_csrf="
                        + csrf);
        String location = r.header("Location");
        boolean in = r.status() == 302 && location != null && !location.contains("/admin/login");
        return new AdminLogin(in ? AdminLogin.sessionCookie(r) : null, r.status(), location, r);
    }

    @Test
    void theLoginCookieIsForTheAdminPathsOnlyHttpOnlyAndStrict() throws Exception {
        AdminLogin login = AdminLogin.as(port, "127.0.0.1:" + port, "admin", PASSWORD);
        assertThat(login.cookie()).as("logged in").startsWith("FERRY_ADMIN=");
        String setCookie = login.answer().headers("Set-Cookie").stream()
                .filter(c -> c.startsWith("FERRY_ADMIN="))
                .findFirst()
                .orElseThrow();
        assertThat(setCookie)
                .contains("; Path=/admin")
                .contains("; HttpOnly")
                .contains("; SameSite=Strict")
                .doesNotContain("Domain=")
                .doesNotContain("Secure"); // (plain http here; over https the container adds Secure)
        assertThat(login.answer().headers("Set-Cookie"))
                .as("every cookie is for the admin paths (no JSESSIONID on Path=/)")
                .allMatch(c ->
                        c.contains("; Path=/admin") && c.contains("; HttpOnly") && c.contains("; SameSite=Strict"));
        assertThat(login.location()).endsWith("/admin");

        assertThat(get("/admin", "Cookie", login.cookie()).status()).isEqualTo(200);
        RawHttp.Response api = get("/admin/api/snapshot", "Cookie", login.cookie());
        assertThat(api.status()).isEqualTo(200);
        assertThat(api.body()).contains("\"sessions\"");
    }

    @Test
    void behindATrustedProxyThatTerminatedTlsTheCookieIsSecure() throws Exception {
        AdminLogin login = login("203.0.113.60", PASSWORD, Map.of("X-Forwarded-Proto", "https"));
        assertThat(login.cookie()).isNotNull();
        assertThat(login.answer().headers("Set-Cookie"))
                .anyMatch(c -> c.startsWith("FERRY_ADMIN=") && c.contains("; Secure") && c.contains("; Path=/admin"));
    }

    @Test
    void withoutTheCookieApiCallsGetASentenceAndPagesTheForm() throws Exception {
        RawHttp.Response api = get("/admin/api/snapshot");
        assertThat(api.status()).isEqualTo(401);
        assertThat(api.body()).contains("Log in to the operator dashboard first, at /admin/login.");
        assertThat(api.header("WWW-Authenticate"))
                .as("no Basic challenge: a browser must not learn to send a password")
                .isNull();
        RawHttp.Response page = get("/admin/workshops", "Accept", "text/html");
        assertThat(page.status()).isEqualTo(302);
        assertThat(page.header("Location")).endsWith("/admin/login");
        RawHttp.Response form = get("/admin/login");
        assertThat(form.status()).isEqualTo(200);
        assertThat(form.body()).contains("name=\"_csrf\"").contains("name=\"password\"");
    }

    @Test
    void theLoginFormAndAnonymousVisitsMakeNoSession() throws Exception {
        RawHttp.Response form = get("/admin/login");
        assertThat(form.headers("Set-Cookie"))
                .as("the form's CSRF token is a cookie, not a session")
                .noneMatch(c -> c.startsWith("FERRY_ADMIN="))
                .anyMatch(c -> c.startsWith("FERRY_ADMIN_CSRF=")
                        && c.contains("; Path=/admin")
                        && c.contains("; HttpOnly")
                        && c.contains("; SameSite=Strict"));
        for (String path : new String[] {"/admin", "/admin/workshops", "/admin/api/snapshot", "/admin/events"}) {
            assertThat(get(path, "Accept", "text/html").headers("Set-Cookie"))
                    .as(path)
                    .noneMatch(c -> c.startsWith("FERRY_ADMIN="));
        }
    }

    @Test
    void httpBasicCredentialsOpenNothing() throws Exception {
        String basic =
                "Basic " + Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        RawHttp.Response page = get("/admin", "Authorization", basic);
        assertThat(page.status()).isNotEqualTo(200);
        assertThat(page.body()).doesNotContain("What is running");
        assertThat(page.header("WWW-Authenticate")).isNull();
        assertThat(get("/admin/api/snapshot", "Authorization", basic).status()).isEqualTo(401);
    }

    @Test
    void aWrongPasswordShowsASentenceAndLogsTheAddressButNotThePassword(CapturedOutput output) throws Exception {
        AdminLogin wrong = login("203.0.113.50", WRONG);
        assertThat(wrong.cookie()).isNull();
        assertThat(wrong.location()).endsWith("/admin/login?error");
        RawHttp.Response page = get("/admin/login?error");
        assertThat(page.body()).contains("The user name or password is wrong.");
        assertThat(output.getOut() + output.getErr())
                .contains("Failed operator login from 203.0.113.50")
                .doesNotContain(WRONG);
    }

    @Test
    void afterTooManyFailuresAnAddressIsRefusedWithoutHashingEvenWithTheRightPassword(CapturedOutput output)
            throws Exception {
        String from = "203.0.113.7";
        int before = CountingEncoder.CHECKS.get();
        for (int i = 0; i < 3; i++) {
            assertThat(login(from, WRONG + i).location()).endsWith("/admin/login?error");
        }
        assertThat(CountingEncoder.CHECKS.get() - before)
                .as("one password check per allowed attempt")
                .isEqualTo(3);

        AdminLogin refused = login(from, PASSWORD);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.cookie()).isNull();
        assertThat(refused.answer().body())
                .contains("Too many failed logins from your address; try again in 15 minutes.");
        assertThat(Long.parseLong(refused.answer().header("Retry-After"))).isBetween(1L, 900L);
        assertThat(login(from, PASSWORD).status()).isEqualTo(429);
        assertThat(CountingEncoder.CHECKS.get() - before)
                .as("the refused attempts computed no hash")
                .isEqualTo(3);
        String log = output.getOut() + output.getErr();
        assertThat(log.split("Refusing operator logins from " + from, -1))
                .as("one line for the refusals, not one each")
                .hasSize(2);
        assertThat(log)
                .contains("Failed operator login from " + from)
                .contains("Refusing operator logins from " + from + " for ")
                .doesNotContain(WRONG)
                .doesNotContain(PASSWORD);

        assertThat(login("203.0.113.8", PASSWORD).cookie())
                .as("another address still logs in")
                .isNotNull();
    }

    @Test
    @DirtiesContext(methodMode = DirtiesContext.MethodMode.BEFORE_METHOD)
    void manyAddressesTogetherReachTheGlobalLimit() throws Exception {
        for (int i = 0; i < 6; i++) {
            assertThat(login("198.51.100." + i, WRONG).location())
                    .as("attempt " + i)
                    .endsWith("/admin/login?error");
        }
        int before = CountingEncoder.CHECKS.get();
        AdminLogin refused = login("198.51.100.200", PASSWORD);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.answer().body())
                .contains("Too many failed logins to this Ferry recently; logins are paused.");
        assertThat(CountingEncoder.CHECKS.get()).as("no hash computed").isEqualTo(before);
    }
}
