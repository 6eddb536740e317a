package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.URL;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.jgit.transport.URIish;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

import dev.ferry.testing.PropertyRuns;

/**
 * Generated hostile URLs against the {@link UrlGuard}, with a {@link HostileResolver} that reads every numeric form a
 * real resolver might. Two promises: the guard answers only with a URL or a {@link RepoException}; and a URL it
 * accepts names a public host both for the guard and for JGit, which parses the same text again to connect.
 */
@AddLifecycleHook(PropertyRuns.class)
class UrlGuardPropertyTest {

    private final UrlGuard guard = new UrlGuard(List.of("https", "http", "git"), false, new HostileResolver());

    @Property
    void anyTextIsAcceptedOrRefusedWithASentence(@ForAll("urlLikeText") String raw) {
        try {
            guard.check(raw);
        } catch (RepoException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }

    @Property
    void anyUnicodeTextIsAcceptedOrRefusedWithASentence(@ForAll String raw) {
        try {
            guard.check(raw);
        } catch (RepoException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }

    @Property
    void nonPublicHostsInAnyDisguiseAreNeverAccepted(@ForAll("disguisedUrls") String raw) throws Exception {
        GuardedUrl accepted;
        try {
            accepted = guard.check(raw);
        } catch (RepoException refused) {
            return;
        }
        assertPublic(accepted.host());
        // JGit parses the URL again to connect: fetches through URIish, ls-remote through java.net.URL.
        assertPublic(new URIish(accepted.url()).getHost());
        assertPublic(new URIish(raw).getHost());
        if (accepted.uri().getScheme().startsWith("http")) {
            assertPublic(new URL(accepted.url()).getHost());
        }
    }

    @Property
    void acceptedUrlsOfPublicHostsStayAccepted(@ForAll("publicUrls") String raw) {
        assertThat(guard.check(raw).addresses())
                .allSatisfy(a -> assertThat(AddressPolicy.nonPublicReason(a)).isEmpty());
    }

    private static void assertPublic(String host) throws UnknownHostException {
        InetAddress[] addresses = HostileResolver.lookUp(host);
        for (InetAddress address : addresses) {
            assertThat(AddressPolicy.nonPublicReason(address))
                    .as("%s resolves to %s", host, address)
                    .isEmpty();
        }
    }

    @Provide
    Arbitrary<String> urlLikeText() {
        Arbitrary<Character> chars = Arbitraries.of(
                'a', 'g', 'x', '0', '1', '7', 'f', ':', '/', '.', '@', '#', '?', '%', '[', ']', '\\', '-', '_', '~',
                '+', '!', '$', '&', '\'', '(', ')', '*', ',', ';', '=', ' ', '\t', '\n', '\u3002', '\uff0e', '\u0000',
                'é');
        Arbitrary<String> tail = Arbitraries.strings()
                .withChars(chars.sample(), chars.sample())
                .ofMaxLength(0)
                .flatMap(ignored -> chars.list().ofMaxSize(40).map(UrlGuardPropertyTest::join));
        Arbitrary<String> prefix = Arbitraries.of(
                "",
                "https://",
                "http://",
                "git://",
                "HTTPS://",
                "file://",
                "ext::",
                "https:/",
                "https:\\\\",
                "//",
                "ssh://",
                "https://good.example@",
                "https://[");
        return Combinators.combine(prefix, tail).as(String::concat);
    }

    private static String join(List<Character> chars) {
        StringBuilder out = new StringBuilder();
        chars.forEach(out::append);
        return out.toString();
    }

    @Provide
    Arbitrary<String> publicUrls() {
        Arbitrary<String> host = Arbitraries.of(
                "good.example",
                "GOOD.example.",
                "git.example.org",
                "93.184.216.34",
                "[2606:2800:220:1:248:1893:25c8:1946]",
                "v6.example.org",
                "[::ffff:5db8:d822]");
        Arbitrary<String> port = Arbitraries.of("", ":443", ":8443");
        Arbitrary<String> path = Arbitraries.strings()
                .alpha()
                .numeric()
                .withChars("-_.")
                .ofMinLength(1)
                .ofMaxLength(20);
        return Combinators.combine(Arbitraries.of("https://", "http://", "git://"), host, port, path)
                .as((s, h, p, r) -> s + h + p + "/" + r + ".git");
    }

    @Provide
    Arbitrary<String> disguisedUrls() {
        Arbitrary<String> shape = Arbitraries.of(
                "https://H/r.git",
                "http://H:80/r.git",
                "git://H/r.git",
                "https://good.example@H/r.git",
                "https://user:pw@H:443/r.git",
                "https://H#@good.example/r.git",
                "https://good.example#@H/r.git",
                "https://H?@good.example/r.git",
                "https://good.example?@H/r.git",
                "https://H\\@good.example/r.git",
                "https://good.example\\@H/r.git",
                "https://good.example%40H/r.git",
                "https://H%2F@good.example/r.git",
                "https://H/@good.example/r.git",
                "https://good.example:443@H/r.git",
                "https://good.example@@H/r.git",
                "https://good.example:@H/r.git",
                "https://H:@good.example/r.git",
                "https://H;@good.example/r.git",
                "https://good.example;@H/r.git",
                "https://H%00.good.example/r.git",
                "https://H.good.example/r.git",
                "HTTPS://H/r.git",
                "https://H",
                "https://H:/r.git",
                "https://H:0443/r.git",
                "git://good.example#@H/r.git");
        return Combinators.combine(shape, disguisedHosts()).as((s, h) -> s.replace("H", h));
    }

    @Provide
    Arbitrary<String> disguisedHosts() {
        Arbitrary<byte[]> v4 = Arbitraries.oneOf(
                Arbitraries.of(
                                "127.0.0.1",
                                "10.0.0.1",
                                "169.254.169.254",
                                "0.0.0.0",
                                "192.168.1.1",
                                "172.16.0.1",
                                "100.64.0.1",
                                "224.0.0.1",
                                "255.255.255.255",
                                "127.255.255.254")
                        .map(UrlGuardPropertyTest::bytes),
                Combinators.combine(
                                Arbitraries.of(127, 10, 0, 224, 240),
                                Arbitraries.integers().between(0, 255),
                                Arbitraries.integers().between(0, 255),
                                Arbitraries.integers().between(0, 255))
                        .as((a, b, c, d) ->
                                new byte[] {(byte) (int) a, (byte) (int) b, (byte) (int) c, (byte) (int) d}));
        Arbitrary<String> v4Forms =
                Combinators.combine(v4, Arbitraries.integers().between(0, 17)).as(UrlGuardPropertyTest::encode);
        Arbitrary<String> v6 = Arbitraries.of(
                "[::1]",
                "[::]",
                "[0:0:0:0:0:0:0:1]",
                "[::0001]",
                "[fe80::1]",
                "[fe80::1%25eth0]",
                "[fe80::1%eth0]",
                "[fd00:ec2::254]",
                "[fc00::1]",
                "[ff02::1]",
                "[fec0::1]",
                "[::ffff:7f00:1]",
                "[::ffff:a9fe:a9fe]",
                "[64:ff9b::a9fe:a9fe]",
                "[64:ff9b:1::7f00:1]",
                "[2002:a9fe:a9fe::]",
                "[::ffff:0:7f00:1]",
                "[0:0:0:0:0:ffff:127.0.0.1]",
                "[::1%25lo]",
                "[2001::1]",
                "[100::1]",
                "[::ffff:127.0.0.1]:443",
                "::1",
                "[::1",
                "::ffff:127.0.0.1");
        Arbitrary<String> names = Arbitraries.of(
                "localhost",
                "LOCALHOST",
                "localhost.",
                "LocalHost.",
                "evil.example",
                "evil.example.",
                "internal.example",
                "meta.example",
                "meta6.example",
                "mixed.example",
                "ｌｏｃａｌｈｏｓｔ",
                "localhost\u3002",
                "evil\u3002example",
                "evil\uff0eexample",
                "xn--localhost",
                "localhost..",
                ".localhost",
                "%6c%6f%63%61%6c%68%6f%73%74",
                "local%68ost",
                "%31%32%37.0.0.1",
                "127.0.0.1%2F",
                "127%2E0%2E0%2E1");
        return Arbitraries.oneOf(v4Forms, v6, names);
    }

    private static byte[] bytes(String dotted) {
        String[] p = dotted.split("\\.");
        return new byte[] {
            (byte) Integer.parseInt(p[0]),
            (byte) Integer.parseInt(p[1]),
            (byte) Integer.parseInt(p[2]),
            (byte) Integer.parseInt(p[3])
        };
    }

    /** One of many ways to write an IPv4 address in a URL host. */
    private static String encode(byte[] a, int form) {
        int[] b = {a[0] & 0xff, a[1] & 0xff, a[2] & 0xff, a[3] & 0xff};
        long value = ((long) b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        String dotted = b[0] + "." + b[1] + "." + b[2] + "." + b[3];
        String hex4 = String.format("%02x%02x:%02x%02x", b[0], b[1], b[2], b[3]);
        return switch (form) {
            case 0 -> dotted;
            case 1 -> Long.toString(value);
            case 2 -> "0x" + Long.toHexString(value);
            case 3 -> "0" + Integer.toOctalString(b[0]) + "." + b[1] + "." + b[2] + "." + b[3];
            case 4 -> String.format("0x%x.0x%x.0x%x.0x%x", b[0], b[1], b[2], b[3]);
            case 5 -> b[0] + "." + ((b[1] << 16) | (b[2] << 8) | b[3]);
            case 6 -> b[0] + "." + b[1] + "." + ((b[2] << 8) | b[3]);
            case 7 -> dotted + ".";
            case 8 -> "[::ffff:" + dotted + "]";
            case 9 -> "[::ffff:" + hex4 + "]";
            case 10 -> "[::" + dotted + "]";
            case 11 -> "[2002:" + hex4 + "::]";
            case 12 -> "[64:ff9b::" + hex4 + "]";
            case 13 -> dotted.replace(".", "\u3002");
            case 14 -> String.format("%03d.%03d.%03d.%03d", b[0], b[1], b[2], b[3]);
            case 15 -> "0X" + Long.toHexString(value).toUpperCase();
            case 16 -> String.format("%d.%d.%d.%d", b[0], b[1], b[2], b[3]).replace("1", "\uff11");
            default -> "[::ffff:0:" + hex4 + "]";
        };
    }

    /** Every provider's parser, then the guard on the URL it built: only specs, URLs or RepoExceptions come out. */
    @Property
    void specParsersOnlyAcceptOrRefuse(@ForAll("providerIds") String provider, @ForAll("specText") String rawSpec) {
        RepoProviders providers = new RepoProviders(
                List.of(
                        new GitHubRepoProvider("https://github.com"),
                        new GitLabRepoProvider("https://gitlab.com"),
                        new GitRepoProvider(),
                        new GistRepoProvider("https://gist.github.com")),
                List.of("^gh/banned/.*"),
                List.of(),
                List.of());
        RepoSpec spec;
        try {
            spec = providers.parse(provider, rawSpec);
        } catch (RepoException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        assertThat(spec.ref()).isNotEmpty();
        assertThat(spec.shownSpec()).doesNotContain("s3cret");
        try {
            guard.check(spec.repoUrl());
        } catch (RepoException refused) {
            assertThat(refused.getMessage()).isNotBlank().doesNotContain("s3cret");
        }
    }

    @Provide
    Arbitrary<String> providerIds() {
        return Arbitraries.of("gh", "gl", "git", "gist");
    }

    @Provide
    Arbitrary<String> specText() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.of(
                        "owner",
                        "repo",
                        "repo.git",
                        "HEAD",
                        "main",
                        "..",
                        ".",
                        "%2F",
                        "%2E%2E",
                        "%25",
                        "%",
                        "%G1",
                        "%00",
                        "%0A",
                        "+",
                        "%20",
                        "@{1}",
                        "~1",
                        "^",
                        ":",
                        "-rf",
                        ".lock",
                        "feature/x",
                        "0123456789abcdef",
                        "https%3A%2F%2Fgood.example%2Fr.git",
                        "https%3A%2F%2Fuser%3As3cret%40good.example%2Fr.git",
                        "https%3A%2F%2F127.0.0.1%2Fr.git",
                        "http%3A%2F%2Fgood.example%40127.0.0.1%2F",
                        "git%3A%2F%2Fgood.example%23%40127.0.0.1%2F",
                        "ext%3A%3Ash",
                        "file%3A%2F%2F%2Fetc",
                        "a".repeat(120),
                        "\u0000",
                        "é",
                        "%C3%A9",
                        "%C3",
                        "banned"),
                Arbitraries.strings().ofMaxLength(8));
        return piece.list().ofMinSize(0).ofMaxSize(5).map(parts -> String.join("/", parts));
    }

    /** Every way of writing a non-public IPv4 address that the generator knows, for the example tests' reference. */
    static List<String> allForms(String dotted) {
        List<String> out = new ArrayList<>();
        for (int form = 0; form <= 17; form++) {
            out.add(encode(bytes(dotted), form));
        }
        return out;
    }
}
