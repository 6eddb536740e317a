package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Which hosts are session hosts, which session each names, and the URL a session is opened at. */
class SessionHostsTest {

    private final SessionHosts hosts = new SessionHosts("sessions.example.org");

    @Test
    void offByDefault() {
        SessionHosts off = new SessionHosts("");
        assertThat(off.enabled()).isFalse();
        assertThat(off.isSessionHost("abc.sessions.example.org")).isFalse();
        assertThat(off.sessionUrl("https://ferry.example.org", "abc")).isEqualTo("https://ferry.example.org/user/abc/");
    }

    @Test
    void theFirstLabelNamesTheSession() {
        assertThat(hosts.sessionIdOf("abc.sessions.example.org")).isEqualTo("abc");
        assertThat(hosts.sessionIdOf("ABC.Sessions.Example.Org.")).isEqualTo("abc");
        assertThat(hosts.sessionIdOf("x.abc.sessions.example.org")).isNull();
        assertThat(hosts.sessionIdOf("sessions.example.org")).isNull();
        assertThat(hosts.isSessionHost("sessions.example.org")).isTrue();
        assertThat(hosts.isSessionHost("x.abc.sessions.example.org")).isTrue();
    }

    @Test
    void lookalikeHostsAreNotSessionHosts() {
        assertThat(hosts.isSessionHost("abc.sessions.example.org.evil.test")).isFalse();
        assertThat(hosts.isSessionHost("abcsessions.example.org")).isFalse();
        assertThat(hosts.isSessionHost("ferry.example.org")).isFalse();
        assertThat(hosts.isSessionHost(null)).isFalse();
    }

    @Test
    void sessionUrlsKeepTheSchemeAndPortOfThePublicUrl() {
        assertThat(hosts.sessionUrl("https://ferry.example.org", "abc"))
                .isEqualTo("https://abc.sessions.example.org/user/abc/");
        assertThat(hosts.sessionUrl("http://127.0.0.1:8080", "abc"))
                .isEqualTo("http://abc.sessions.example.org:8080/user/abc/");
    }

    @Test
    void leadingWildcardOrDotIsAccepted_andNonNamesRefused() {
        assertThat(new SessionHosts("*.sessions.example.org").domain()).isEqualTo("sessions.example.org");
        assertThat(new SessionHosts(".sessions.example.org").domain()).isEqualTo("sessions.example.org");
        assertThatThrownBy(() -> new SessionHosts("https://sessions.example.org"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SessionHosts("localhost")).isInstanceOf(IllegalArgumentException.class);
    }
}
