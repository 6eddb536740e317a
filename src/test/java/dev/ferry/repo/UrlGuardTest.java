package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The URL guard decides before any connection: these tests give it a resolver that knows a few names and never
 * leaves the machine, so a broken guard cannot send a packet anywhere.
 */
class UrlGuardTest {

    private static final Map<String, String> DNS = Map.of(
            "git.example.org", "93.184.216.34",
            "internal.example.org", "10.1.2.3",
            "metadata.example.org", "169.254.169.254",
            "v6.example.org", "2606:2800:220:1:248:1893:25c8:1946",
            "ula.example.org", "fd12:3456:789a::1");

    private static InetAddress[] resolve(String host) throws UnknownHostException {
        String ip = DNS.get(host);
        if (ip != null) {
            return new InetAddress[] {InetAddress.getByName(ip)};
        }
        if (host.matches("[0-9.]+") || host.contains(":")) {
            return new InetAddress[] {InetAddress.getByName(host)}; // literals: parsed, never looked up
        }
        throw new UnknownHostException(host);
    }

    private final UrlGuard guard = new UrlGuard(List.of("https"), false, UrlGuardTest::resolve);

    @Test
    void acceptsHttpsUrlOfPublicHost() {
        GuardedUrl url = guard.check("https://git.example.org/owner/repo.git");
        assertThat(url.host()).isEqualTo("git.example.org");
        assertThat(url.addresses()).extracting(InetAddress::getHostAddress).containsExactly("93.184.216.34");
    }

    @Test
    void acceptsPublicIpv6Host() {
        assertThat(guard.check("https://v6.example.org/r.git").host()).isEqualTo("v6.example.org");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "file:///etc/passwd",
                "file:/etc",
                "ssh://git@git.example.org/r.git",
                "ext::sh -c touch% /tmp/pwned",
                "ext::sh",
                "ftp://git.example.org/r.git",
                "http://git.example.org/r.git",
                "git://git.example.org/r.git",
                "git@git.example.org:owner/repo.git",
                "git.example.org:owner/repo.git",
                "git.example.org/owner/repo",
                "javascript:alert(1)"
            })
    void refusesSchemesThatAreNotAllowed(String url) {
        assertThatThrownBy(() -> guard.check(url))
                .isInstanceOf(RepoException.class)
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(400));
    }

    @Test
    void operatorMayAllowHttpAndGit() {
        UrlGuard open = new UrlGuard(List.of("https", "http", "git"), false, UrlGuardTest::resolve);
        assertThat(open.check("http://git.example.org/r.git").host()).isEqualTo("git.example.org");
        assertThat(open.check("git://git.example.org/r.git").host()).isEqualTo("git.example.org");
    }

    @Test
    void refusesToBeConfiguredWithUnsafeSchemes() {
        assertThatThrownBy(() -> new UrlGuard(List.of("https", "file"), false, UrlGuardTest::resolve))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("file");
        assertThatThrownBy(() -> new UrlGuard(List.of("ssh"), false, UrlGuardTest::resolve))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https://127.0.0.1/x.git",
                "https://127.1.2.3/x.git",
                "https://10.0.0.1/x.git",
                "https://172.16.5.4/x.git",
                "https://192.168.1.1/x.git",
                "https://169.254.169.254/latest/meta-data/",
                "https://0.0.0.0/x.git",
                "https://224.0.0.1/x.git",
                "https://100.64.0.1/x.git",
                "https://[::1]/x.git",
                "https://[::]/x.git",
                "https://[fe80::1]/x.git",
                "https://[fd00::1]/x.git",
                "https://[64:ff9b::a00:1]/x.git",
                "https://[2002:7f00:1::]/x.git",
                "https://[ff02::1]/x.git",
                "https://internal.example.org/x.git",
                "https://metadata.example.org/x.git",
                "https://ula.example.org/x.git",
                "https://git.example.org@127.0.0.1/x.git"
            })
    void refusesNonPublicAddresses(String url) {
        assertThatThrownBy(() -> guard.check(url))
                .isInstanceOf(RepoException.class)
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(403))
                .hasMessageContaining("only fetches repositories from public hosts");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https://[::ffff:127.0.0.1]/x.git",
                "https://[::ffff:169.254.169.254]/x.git",
                "https://[0:0:0:0:0:ffff:127.0.0.1]/x.git"
            })
    void ipv6LiteralsWithADottedTailAreRefusedBecauseGitCannotReadThem(String url) {
        assertThatThrownBy(() -> guard.check(url))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("a host that git cannot read");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https://[::ffff:7f00:1]/x.git",
                "https://[::ffff:0:7f00:1]/x.git",
                "https://[::7f00:1]/x.git",
                "https://[64:ff9b:1::a9fe:a9fe]/x.git",
                "https://[fd00:ec2::254]/x.git",
                "https://[fe80::1%25eth0]/x.git"
            })
    void ipv6FormsEmbeddingOrNamingInternalAddressesAreRefused(String url) {
        assertThatThrownBy(() -> guard.check(url))
                .isInstanceOf(RepoException.class)
                .satisfies(e -> assertThat(((RepoException) e).status()).isIn(400, 403));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https://git.example.org#@127.0.0.1/x.git",
                "git://git.example.org#@127.0.0.1/x.git",
                "https://git.example.org/x.git#frag"
            })
    void urlsThatJGitReadsWithAnotherHostAreRefused(String url) {
        UrlGuard open = new UrlGuard(List.of("https", "git"), false, UrlGuardTest::resolve);
        assertThatThrownBy(() -> open.check(url))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("a git URL has no fragment");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https://2130706433/x.git",
                "https://0x7f.1/x.git",
                "https://0177.0.0.1/x.git",
                "https://127.1/x.git",
                "https://0x7f000001/x.git",
                "https://127.0.0.01/x.git"
            })
    void refusesNumericHostFormsThatResolversReadDifferently(String url) {
        assertThatThrownBy(() -> guard.check(url))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("four decimal numbers");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https:/git.example.org/x.git",
                "https:\\\\git.example.org/x.git",
                "https:/\\git.example.org/x.git",
                "HTTPS:\\/git.example.org/x.git"
            })
    void aSchemeWithAMangledDoubleSlashIsExplainedNotTakenForSsh(String url) {
        assertThatThrownBy(() -> guard.check(url))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("missing the // after its scheme");
    }

    @Test
    void trailingDotDoesNotHideALoopbackAddress() {
        assertThatThrownBy(() -> guard.check("https://127.0.0.1./x.git")).isInstanceOf(RepoException.class);
    }

    @Test
    void operatorMayAllowPrivateAddresses() {
        UrlGuard permissive = new UrlGuard(List.of("https"), true, UrlGuardTest::resolve);
        assertThat(permissive.check("https://internal.example.org/x.git").host())
                .isEqualTo("internal.example.org");
        assertThat(permissive.check("https://127.0.0.1/x.git").host()).isEqualTo("127.0.0.1");
    }

    @Test
    void unknownHostIsAClearError() {
        assertThatThrownBy(() -> guard.check("https://no-such-host.example.org/x.git"))
                .isInstanceOf(RepoException.class)
                .hasMessage(
                        "The host no-such-host.example.org could not be found. Check the repository URL for typos.");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                " ",
                "https://git.example.org/a b.git",
                "https://git.example.org/x.git\r\nX: y",
                "https://git.example.org/\u0000.git",
                "https:///x.git",
                "https://:443/x.git"
            })
    void refusesMalformedUrls(String url) {
        assertThatThrownBy(() -> guard.check(url))
                .isInstanceOf(RepoException.class)
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(400));
    }

    @Test
    void refusalsNeverShowCredentials() {
        assertThatThrownBy(() -> guard.check("ftp://user:s3cret@git.example.org/x.git"))
                .isInstanceOf(RepoException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret"));
        assertThatThrownBy(() -> guard.check("user:s3cret@git.example.org:x.git"))
                .isInstanceOf(RepoException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret"));
        assertThat(guard.check("https://user:s3cret@git.example.org/x.git").redacted())
                .isEqualTo("https://***@git.example.org/x.git");
    }

    @Test
    void overlongUrlIsRefused() {
        assertThatThrownBy(() -> guard.check("https://git.example.org/" + "a".repeat(3000)))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining("longer than");
    }
}
