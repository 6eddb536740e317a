package dev.ferry.repo;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.eclipse.jgit.transport.URIish;

/**
 * Decides whether Ferry may fetch from a repository URL that a stranger typed. Refuses every scheme but the allowed
 * ones (a subset of https, http, git), scp-like and {@code ext::} addresses, malformed hosts and numeric host forms
 * that resolvers read differently, and — unless the operator allows it — hosts that resolve to a non-public address.
 * Each refusal is a {@link RepoException} with a sentence the user can act on; nothing is contacted but the resolver.
 */
public final class UrlGuard {

    private static final Set<String> SUPPORTED_SCHEMES = Set.of("https", "http", "git");
    /** git's {@code <transport>::<address>} syntax, e.g. {@code ext::sh -c ...}. */
    private static final Pattern TRANSPORT_PREFIX = Pattern.compile("^[A-Za-z0-9+.-]+::");
    /** {@code https:/host}, {@code https:\\host}: a scheme with a mangled {@code //}, not an scp-like address. */
    private static final Pattern SCHEME_WITHOUT_AUTHORITY = Pattern.compile("^(?i)(https?|git):[/\\\\].*");

    private static final Pattern SCP_LIKE = Pattern.compile("^[^/:]+:.*");
    private static final Pattern NUMERIC_LABEL = Pattern.compile("^(0[xX][0-9a-fA-F]*|[0-9]+)$");
    private static final Pattern CANONICAL_V4_LABEL = Pattern.compile("^(0|[1-9][0-9]{0,2})$");
    private static final int MAX_URL_LENGTH = 2048;

    private final Set<String> allowedSchemes;
    private final boolean allowPrivateAddresses;
    private final HostResolver resolver;

    public UrlGuard(List<String> allowedSchemes, boolean allowPrivateAddresses, HostResolver resolver) {
        this.allowedSchemes = allowedSchemes.stream()
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        for (String scheme : this.allowedSchemes) {
            if (!SUPPORTED_SCHEMES.contains(scheme)) {
                throw new IllegalArgumentException(
                        "ferry.repo.allowed-schemes may only contain https, http and git, not '"
                                + Urls.printable(scheme) + "'");
            }
        }
        this.allowPrivateAddresses = allowPrivateAddresses;
        this.resolver = resolver;
    }

    public Set<String> allowedSchemes() {
        return allowedSchemes;
    }

    /** Checks the URL and resolves its host; throws {@link RepoException} with the reason when it is refused. */
    public GuardedUrl check(String raw) {
        if (raw == null || raw.isBlank()) {
            throw new RepoException(
                    400, "Enter the URL of a git repository, for example https://example.org/owner/repo.git.");
        }
        if (raw.length() > MAX_URL_LENGTH) {
            throw new RepoException(400, "The repository URL is longer than " + MAX_URL_LENGTH + " characters.");
        }
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                throw new RepoException(
                        400, "The repository URL contains spaces or control characters; check what was pasted.");
            }
        }
        String lower = raw.toLowerCase(Locale.ROOT);
        if (TRANSPORT_PREFIX.matcher(raw).find()) {
            throw refusedScheme(raw.substring(0, raw.indexOf("::")));
        }
        int schemeEnd = raw.indexOf("://");
        if (schemeEnd < 0) {
            if (lower.startsWith("file:")) {
                throw refusedScheme("file");
            }
            if (SCHEME_WITHOUT_AUTHORITY.matcher(raw).matches()) {
                throw new RepoException(
                        400,
                        "The repository URL " + Urls.redact(raw) + " is missing the // after its scheme; "
                                + "write it as " + schemeHint() + "host/path.");
            }
            if (SCP_LIKE.matcher(raw).matches()) {
                throw new RepoException(
                        400,
                        "SSH addresses (user@host:path) are not accepted; use the repository's " + schemeHint()
                                + " URL instead.");
            }
            throw new RepoException(
                    400,
                    "The repository URL must start with " + schemeHint()
                            + ", for example https://example.org/owner/repo.git.");
        }
        URI uri;
        try {
            uri = new URI(raw);
        } catch (URISyntaxException e) {
            throw new RepoException(400, "The repository URL " + Urls.redact(raw) + " is not a valid URL.");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!allowedSchemes.contains(scheme)) {
            throw refusedScheme(scheme);
        }
        String host = uri.getHost();
        if ((host == null || host.isEmpty()) && uri.getRawAuthority() != null) {
            String authority = uri.getRawAuthority().replaceFirst("^.*@", "").replaceFirst(":[0-9]*$", "");
            refuseAmbiguousNumericHost(authority);
        }
        if (host == null || host.isEmpty() || uri.getRawAuthority() == null) {
            throw new RepoException(400, "The repository URL " + Urls.redact(raw) + " has no valid host name.");
        }
        if (uri.getRawFragment() != null) {
            throw new RepoException(
                    400,
                    "The repository URL " + Urls.redact(raw)
                            + " contains '#'; a git URL has no fragment. Remove it and what follows.");
        }
        refuseParserDisagreement(raw, uri);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else {
            if (host.endsWith(".")) {
                host = host.substring(0, host.length() - 1); // the same name, written as absolute
            }
            refuseAmbiguousNumericHost(host);
        }
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(host);
        } catch (UnknownHostException e) {
            throw hostNotFound(host);
        }
        if (addresses == null || addresses.length == 0) {
            throw hostNotFound(host);
        }
        refuseNonPublic(host, addresses);
        return new GuardedUrl(uri, host, List.of(addresses));
    }

    /**
     * Resolves the host Ferry is about to connect to and checks every address; the connection then uses exactly these
     * addresses, so a name cannot answer one address to the check and another to the connection (DNS rebinding).
     */
    public InetAddress[] resolveForConnection(String host) throws UnknownHostException {
        String name = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        InetAddress[] addresses = resolver.resolve(name);
        if (addresses == null || addresses.length == 0) {
            throw new UnknownHostException(name);
        }
        refuseNonPublic(name, addresses);
        return addresses.clone();
    }

    private static RepoException hostNotFound(String host) {
        return new RepoException(
                400, "The host " + Urls.printable(host) + " could not be found. Check the repository URL for typos.");
    }

    /** Refuses a host that resolves to any address outside the public internet, unless the operator allows them. */
    private void refuseNonPublic(String host, InetAddress[] addresses) {
        if (allowPrivateAddresses) {
            return;
        }
        for (InetAddress address : addresses) {
            Optional<String> reason = AddressPolicy.nonPublicReason(address);
            if (reason.isPresent()) {
                throw new RepoException(
                        403,
                        "The repository host " + Urls.printable(host) + " resolves to " + reason.get()
                                + "; Ferry only fetches repositories from public hosts.");
            }
        }
    }

    /**
     * JGit parses the URL again, with its own grammar ({@link URIish}), to connect. A URL the two grammars read with
     * different hosts, ports or users (e.g. {@code https://good.example#@127.0.0.1/}) would let the guard check one
     * host while JGit connects to another, so it is refused.
     */
    private static void refuseParserDisagreement(String raw, URI uri) {
        URIish jgit;
        try {
            jgit = new URIish(raw);
        } catch (URISyntaxException e) {
            throw new RepoException(400, "The repository URL " + Urls.redact(raw) + " is not a valid URL.");
        }
        if (jgit.getHost() == null) {
            throw new RepoException(
                    400,
                    "The repository URL " + Urls.redact(raw)
                            + " has a host that git cannot read; write the host as a name or a plain address.");
        }
        boolean same = unbracketed(uri.getHost()).equalsIgnoreCase(unbracketed(jgit.getHost()))
                && uri.getPort() == jgit.getPort()
                && Objects.equals(
                        uri.getRawUserInfo() == null
                                ? null
                                : uri.getRawUserInfo().split(":", 2)[0],
                        jgit.getUser() == null ? null : encodedUser(uri, jgit.getUser()));
        if (!same) {
            throw new RepoException(
                    400,
                    "The repository URL " + Urls.redact(raw)
                            + " can be read as naming more than one host; write it as scheme://host/path.");
        }
    }

    private static String unbracketed(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]")
                ? host.substring(1, host.length() - 1)
                : String.valueOf(host);
    }

    private static String encodedUser(URI uri, String decodedUser) {
        String raw = uri.getRawUserInfo().split(":", 2)[0];
        return decodedUser.equals(raw)
                        || decodedUser.equals(URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8))
                ? raw
                : decodedUser;
    }

    private static void refuseAmbiguousNumericHost(String host) {
        String[] labels = host.split("\\.", -1);
        boolean allNumeric = true;
        for (String label : labels) {
            allNumeric &= NUMERIC_LABEL.matcher(label).matches();
        }
        if (!allNumeric) {
            return;
        }
        boolean canonical = labels.length == 4;
        for (String label : labels) {
            canonical &= CANONICAL_V4_LABEL.matcher(label).matches() && Integer.parseInt(label) <= 255;
        }
        if (!canonical) {
            throw new RepoException(
                    400,
                    "The host " + Urls.printable(host)
                            + " is not a valid address; write IPv4 addresses as four decimal numbers, or use a host name.");
        }
    }

    private RepoException refusedScheme(String scheme) {
        return new RepoException(
                400,
                "Repository URLs starting with " + Urls.printable(scheme) + ": are not accepted; use " + schemeHint()
                        + ".");
    }

    private String schemeHint() {
        return allowedSchemes.stream().sorted().map(s -> s + "://").collect(Collectors.joining(" or "));
    }
}
