package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Asks the image registry whether an image was already built, with the Registry HTTP API v2
 * ({@code HEAD /v2/<repository>/manifests/<tag>}): 200 yes, 404 no.
 *
 * <p>Authentication follows the registry's {@code WWW-Authenticate} challenge: {@code Basic} with
 * {@code ferry.registry.username}/{@code password}, or {@code Bearer}, where a token is fetched from the challenge's
 * realm (with those credentials when set, anonymously otherwise) and kept per scope until it expires, so that checks
 * do not fetch a token each time.
 *
 * <p>Redirects are never followed blindly, so credentials never travel to a host they were not meant for. A redirect
 * to the registry's own origin (same scheme, host and port) is followed with the same credentials. A temporary
 * redirect (302, 303, 307) elsewhere is how registries hand out content from blob storage; the registry has found the
 * manifest, so the answer is "exists" without contacting the other host. Any other redirect (a permanent one, or to
 * another scheme or port of the same host, e.g. {@code http} to {@code https}) means {@code ferry.registry.url} is not
 * where the registry answers, and fails with a sentence saying so.
 *
 * <p>Every failure is a {@link RegistryException} naming the registry's host; no message, log line or
 * {@code toString} holds the password or a token.
 */
public final class RegistryClient {

    static final String MANIFEST_TYPES = String.join(
            ", ",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** What a token lives when the token service does not say (the Docker token spec's default). */
    static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);
    /** A token is renewed this long before it expires, so it does not expire on its way to the registry. */
    private static final Duration TOKEN_MARGIN = Duration.ofSeconds(5);

    private static final int MAX_REDIRECTS = 5;
    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);

    private final URI base;
    private final String host;
    private final boolean insecure;
    private final String username;
    private final String password;
    private final HttpClient http;
    private final Clock clock;
    private final JsonMapper json = JsonMapper.builder().build();
    /** Bearer tokens by the scope they grant ({@code repository:<name>:pull}). */
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    /** Where an operator sets the credentials this client uses, for sentences that tell them what to check. */
    private final String credentialSetting;
    /** Set once the registry asked for Basic: later checks send the credentials right away. */
    private volatile boolean basicWanted;

    /** A client with its own {@link HttpClient}: 5 s to connect, no redirects followed. */
    public RegistryClient(RegistryProperties props) {
        this(
                props,
                HttpClient.newBuilder()
                        .connectTimeout(CONNECT_TIMEOUT)
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build());
    }

    /**
     * @param http must not follow redirects ({@link HttpClient.Redirect#NEVER}): this class decides which redirects
     *             are safe to follow with credentials
     */
    public RegistryClient(RegistryProperties props, HttpClient http) {
        this(props, http, Clock.systemUTC());
    }

    RegistryClient(RegistryProperties props, HttpClient http, Clock clock) {
        this(props, http, clock, "ferry.registry.username and ferry.registry.password");
    }

    /**
     * A client for {@link #checkPush}: with the push credentials (those of the Secret the build Jobs mount) in
     * {@code props}, which sentences name as {@code credentialSetting}.
     */
    RegistryClient(RegistryProperties props, String credentialSetting) {
        this(
                props,
                HttpClient.newBuilder()
                        .connectTimeout(CONNECT_TIMEOUT)
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build(),
                Clock.systemUTC(),
                credentialSetting);
    }

    private RegistryClient(RegistryProperties props, HttpClient http, Clock clock, String credentialSetting) {
        Objects.requireNonNull(props, "props");
        this.credentialSetting = credentialSetting;
        this.http = Objects.requireNonNull(http, "http");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (http.followRedirects() != HttpClient.Redirect.NEVER) {
            throw new IllegalArgumentException("The registry client's HttpClient must not follow redirects "
                    + "(HttpClient.Redirect.NEVER): it would send credentials to whatever host a redirect names.");
        }
        this.base = props.apiUrl();
        if (base.getHost() == null || !("http".equals(base.getScheme()) || "https".equals(base.getScheme()))) {
            throw new IllegalArgumentException("The registry URL '" + base + "' is not an http(s) URL with a host: "
                    + "set ferry.registry.url (or ferry.registry.prefix) to the registry's address.");
        }
        this.host = hostPort(base);
        this.insecure = props.insecure();
        this.username = props.username();
        this.password = props.password();
    }

    /**
     * Whether {@code <repository>:<tag>} is in the registry.
     *
     * @param repository the repository inside the registry, e.g. {@code ferry/demo} ({@link RegistryProperties#repository})
     * @param tag        a tag or a digest ({@code sha256:…})
     * @throws RegistryException        when the registry cannot be reached, refuses Ferry, or answers something else
     * @throws IllegalArgumentException when the repository or the tag is not a valid name
     */
    public boolean exists(String repository, String tag) {
        if (!ImageReference.REPOSITORY.matcher(repository).matches()) {
            throw new IllegalArgumentException("'" + repository + "' is not a valid repository name.");
        }
        if (!ImageReference.TAG.matcher(tag).matches()
                && !ImageReference.DIGEST.matcher(tag).matches()) {
            throw new IllegalArgumentException("'" + tag + "' is not a valid tag or digest.");
        }
        String image = repository + (ImageReference.DIGEST.matcher(tag).matches() ? "@" : ":") + tag;
        URI uri = URI.create(base + "/v2/" + repository + "/manifests/" + tag);
        String scope = "repository:" + repository + ":pull";

        Credential first = cachedCredential(scope);
        HttpResponse<Void> response = head(uri, first, image);
        if (response.statusCode() == 401) {
            Credential retry = answer(challenges(response, image), scope, first, repository);
            response = head(uri, retry, image);
            if (response.statusCode() == 401) {
                throw refused(retry, repository);
            }
        }
        return outcome(response, image);
    }

    /**
     * Whether the registry lets this client's account push to {@code repository}: starts a blob upload
     * ({@code POST /v2/<repository>/blobs/uploads/}, answered 202 when pushing is allowed) and cancels it at once
     * ({@code DELETE} of the upload's location), so that nothing is written.
     *
     * @throws RegistryException with a sentence saying what to fix, when the registry cannot be reached or refuses
     */
    void checkPush(String repository) {
        if (!ImageReference.REPOSITORY.matcher(repository).matches()) {
            throw new IllegalArgumentException("'" + repository + "' is not a valid repository name.");
        }
        URI uri = URI.create(base + "/v2/" + repository + "/blobs/uploads/");
        String scope = "repository:" + repository + ":pull,push";
        Credential sent = cachedCredential(scope);
        HttpResponse<Void> response = startUpload(uri, sent, repository);
        if (response.statusCode() == 401) {
            sent = answer(challenges(response, repository), scope, sent, repository);
            response = startUpload(uri, sent, repository);
        }
        int status = response.statusCode();
        if (status == 202) {
            cancelUpload(uri, response, sent, repository);
            return;
        }
        if (status == 401 || status == 403) {
            throw new RegistryException("The registry at " + host + " does not let " + describeUser() + " push to "
                    + repository + " (HTTP " + status + "): check " + credentialSetting + ", and that the account may "
                    + "push to that repository.");
        }
        throw new RegistryException("The registry at " + host + " answered HTTP " + status + " when Ferry started "
                + "an upload to " + repository + ": check that ferry.registry.prefix names a registry (API v2) that "
                + "accepts pushes, and that it is healthy.");
    }

    private HttpResponse<Void> startUpload(URI uri, Credential credential, String repository) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .POST(HttpRequest.BodyPublishers.noBody())
                .timeout(REQUEST_TIMEOUT);
        if (credential != null) {
            request.header("Authorization", credential.header());
        }
        return send(
                request.build(),
                HttpResponse.BodyHandlers.discarding(),
                "the registry at " + host,
                "starting an upload to " + repository);
    }

    /** The upload was only a question: removed again (a registry that cannot cancel expires it by itself). */
    private void cancelUpload(URI uri, HttpResponse<Void> started, Credential credential, String repository) {
        Optional<URI> location = started.headers().firstValue("Location").flatMap(l -> {
            try {
                return Optional.of(uri.resolve(l));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        });
        if (location.isEmpty() || !origin(location.get()).equals(origin(base))) {
            return; // never send credentials elsewhere
        }
        HttpRequest.Builder request =
                HttpRequest.newBuilder(location.get()).DELETE().timeout(REQUEST_TIMEOUT);
        if (credential != null) {
            request.header("Authorization", credential.header());
        }
        try {
            send(
                    request.build(),
                    HttpResponse.BodyHandlers.discarding(),
                    "the registry at " + host,
                    "cancelling the upload to " + repository);
        } catch (RegistryException e) {
            log.debug("cancelling the test upload to {} failed: {}", repository, e.getMessage());
        }
    }

    private boolean outcome(HttpResponse<Void> response, String image) {
        int status = response.statusCode();
        if (status == 200) {
            return true;
        }
        if (status == 404) {
            return false;
        }
        boolean located = response.headers().firstValue("Location").isPresent();
        if (located && (status == 302 || status == 303 || status == 307)) {
            return true; // a content redirect to another origin (same-origin ones were followed): the manifest exists
        }
        if (status >= 300 && status < 400) {
            String to = response.headers()
                    .firstValue("Location")
                    .map(RegistryClient::origin)
                    .orElse("nowhere");
            throw new RegistryException("The registry at " + host + " redirects the check for " + image + " to " + to
                    + " (HTTP " + status + "): set ferry.registry.url to the address the registry answers on.");
        }
        if (status == 403) {
            throw new RegistryException("The registry at " + host + " forbids " + describeUser() + " to read " + image
                    + " (HTTP 403): give the account pull access to the repository.");
        }
        if (status == 429) {
            throw new RegistryException("The registry at " + host + " rate-limits Ferry (HTTP 429) while checking "
                    + image + ": try again later, or set ferry.registry.username/password to an account with a "
                    + "higher limit.");
        }
        throw new RegistryException("The registry at " + host + " answered HTTP " + status + " when Ferry checked "
                + "whether " + image + " exists: check that ferry.registry.url points at a registry (API v2) "
                + "and that it is healthy.");
    }

    /** Sends the HEAD, following redirects only within the registry's origin. */
    private HttpResponse<Void> head(URI uri, Credential credential, String image) {
        URI target = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(target)
                    .method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(REQUEST_TIMEOUT)
                    .header("Accept", MANIFEST_TYPES);
            if (credential != null) {
                request.header("Authorization", credential.header());
            }
            HttpResponse<Void> response = send(
                    request.build(),
                    HttpResponse.BodyHandlers.discarding(),
                    "the registry at " + hostPort(target),
                    "checking whether " + image + " exists");
            Optional<URI> next = redirect(response, target);
            if (next.isEmpty() || !origin(next.get()).equals(origin(base))) {
                return response;
            }
            if (hop == MAX_REDIRECTS) {
                throw new RegistryException("The registry at " + host + " redirected the check for " + image
                        + " more than " + MAX_REDIRECTS + " times: check the registry's configuration.");
            }
            target = next.get();
        }
    }

    private static Optional<URI> redirect(HttpResponse<?> response, URI from) {
        int status = response.statusCode();
        if (status < 300 || status >= 400 || status == 304) {
            return Optional.empty();
        }
        return response.headers().firstValue("Location").flatMap(location -> {
            try {
                return Optional.of(from.resolve(location));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        });
    }

    private List<AuthChallenge> challenges(HttpResponse<?> response, String image) {
        List<String> values = response.headers().allValues("WWW-Authenticate");
        if (values.isEmpty()) {
            throw new RegistryException("The registry at " + host + " asks for authentication (HTTP 401) to check "
                    + image + " but does not say how (no WWW-Authenticate header): check ferry.registry.url.");
        }
        try {
            return AuthChallenge.parseAll(values);
        } catch (IllegalArgumentException e) {
            throw new RegistryException("The registry at " + host + " asks for authentication (HTTP 401) with a "
                    + "WWW-Authenticate header Ferry cannot read (" + e.getMessage() + ").");
        }
    }

    /** The credential to retry with after a 401 that carried these challenges. */
    private Credential answer(List<AuthChallenge> challenges, String scope, Credential sent, String repository) {
        Optional<AuthChallenge> bearer =
                challenges.stream().filter(c -> c.is("Bearer")).findFirst();
        if (bearer.isPresent()) {
            tokens.remove(scope); // the registry did not take the cached one (if one was sent)
            return bearer(bearer.get(), scope, repository);
        }
        if (challenges.stream().anyMatch(c -> c.is("Basic"))) {
            if (!hasCredentials()) {
                throw new RegistryException("The registry at " + host + " needs credentials to check for images "
                        + "(it asks for Basic authentication): set " + credentialSetting + ".");
            }
            if (sent != null && sent.basic()) {
                throw refused(sent, repository);
            }
            basicWanted = true;
            return Credential.basic(username, password);
        }
        List<String> schemes = challenges.stream().map(AuthChallenge::scheme).toList();
        throw new RegistryException("The registry at " + host + " asks for authentication Ferry does not speak "
                + schemes + ": Ferry supports Basic and Bearer (token) authentication.");
    }

    private Credential bearer(AuthChallenge challenge, String scope, String repository) {
        String realm = challenge.param("realm");
        URI realmUri;
        try {
            realmUri = realm == null ? null : URI.create(realm);
        } catch (IllegalArgumentException e) {
            realmUri = null;
        }
        if (realmUri == null
                || realmUri.getHost() == null
                || !("https".equals(realmUri.getScheme()) || "http".equals(realmUri.getScheme()))) {
            throw new RegistryException("The registry at " + host + " asks for a Bearer token but names no usable "
                    + "token service (realm): check the registry's auth configuration.");
        }
        String authHost = hostPort(realmUri);
        if (hasCredentials() && "http".equals(realmUri.getScheme()) && !insecure) {
            throw new RegistryException("The registry at " + host + " sends Ferry for tokens to " + authHost
                    + " over plain HTTP; Ferry will not send ferry.registry.password unencrypted. Use an https "
                    + "token service, or set ferry.registry.insecure=true for a development registry.");
        }
        String requested = challenge.param("scope") != null ? challenge.param("scope") : scope;
        StringBuilder query = new StringBuilder();
        if (challenge.param("service") != null) {
            query.append("service=").append(encode(challenge.param("service")));
        }
        query.append(query.isEmpty() ? "" : "&").append("scope=").append(encode(requested));
        URI tokenUri = URI.create(realm + (realm.contains("?") ? "&" : "?") + query);

        HttpRequest.Builder request =
                HttpRequest.newBuilder(tokenUri).GET().timeout(REQUEST_TIMEOUT).header("Accept", "application/json");
        if (hasCredentials()) {
            request.header("Authorization", Credential.basic(username, password).header());
        }
        HttpResponse<String> response = send(
                request.build(),
                HttpResponse.BodyHandlers.ofString(),
                "the token service " + authHost + " of the registry at " + host,
                "fetching a token to read " + repository);
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            throw hasCredentials()
                    ? new RegistryException("The token service " + authHost + " of the registry at " + host
                            + " refused the credentials of " + describeUser() + " (HTTP " + status + "): check "
                            + credentialSetting + ".")
                    : new RegistryException("The token service " + authHost + " of the registry at " + host
                            + " refuses anonymous access (HTTP " + status + "): the registry needs credentials; "
                            + "set " + credentialSetting + ".");
        }
        if (status != 200) {
            throw new RegistryException("The token service " + authHost + " of the registry at " + host
                    + " answered HTTP " + status + " when Ferry asked for a token to read " + repository
                    + ": check that it is healthy.");
        }
        Token token = parseToken(response.body(), authHost);
        tokens.values().removeIf(t -> t.expired(clock.instant()));
        tokens.put(scope, token);
        log.debug("Fetched a registry token from {} for {}, valid until {}", authHost, scope, token.expires());
        return Credential.bearer(token.value());
    }

    private Token parseToken(String body, String authHost) {
        JsonNode node = readJson(body);
        String value = text(node, "token").or(() -> text(node, "access_token")).orElse(null);
        if (value == null) {
            throw new RegistryException("The token service " + authHost + " of the registry at " + host
                    + " answered without a token (expected JSON with \"token\" or \"access_token\"): check the "
                    + "registry's auth configuration.");
        }
        Duration lifetime = DEFAULT_TOKEN_LIFETIME;
        JsonNode expiresIn = node.get("expires_in");
        if (expiresIn != null && expiresIn.canConvertToLong() && expiresIn.asLong() > 0) {
            lifetime = Duration.ofSeconds(expiresIn.asLong());
        }
        Duration usable =
                lifetime.compareTo(TOKEN_MARGIN.multipliedBy(2)) > 0 ? lifetime.minus(TOKEN_MARGIN) : lifetime;
        return new Token(value, clock.instant().plus(usable));
    }

    /** The JSON object in this body, or an empty object when it is none (an HTML error page, say). */
    private JsonNode readJson(String body) {
        try {
            JsonNode node = json.readTree(body);
            return node != null && node.isObject() ? node : json.createObjectNode();
        } catch (JacksonException e) {
            return json.createObjectNode();
        }
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isString() && !value.asString().isEmpty()
                ? Optional.of(value.asString())
                : Optional.empty();
    }

    /** What to send before any challenge: a live token for the scope, or Basic once the registry asked for it. */
    private Credential cachedCredential(String scope) {
        Token token = tokens.get(scope);
        if (token != null) {
            if (!token.expired(clock.instant())) {
                return Credential.bearer(token.value());
            }
            tokens.remove(scope, token);
        }
        return basicWanted && hasCredentials() ? Credential.basic(username, password) : null;
    }

    private RegistryException refused(Credential sent, String repository) {
        if (sent != null && sent.basic()) {
            return new RegistryException("The registry at " + host + " refused the credentials of " + describeUser()
                    + ": check " + credentialSetting + ".");
        }
        return hasCredentials()
                ? new RegistryException("The registry at " + host + " refused the token its token service issued to "
                        + describeUser() + " for " + repository + ": check that the account may pull from it.")
                : new RegistryException("The registry at " + host + " refused anonymous access to " + repository
                        + ": the registry needs credentials; set " + credentialSetting
                        + " to an account that may pull from it.");
    }

    /**
     * @param server who is asked, as a phrase naming its host ("the registry at registry.example.org")
     * @param doing  what for, as a phrase ("checking whether ferry/demo:abc exists")
     */
    private <T> HttpResponse<T> send(
            HttpRequest request, HttpResponse.BodyHandler<T> body, String server, String doing) {
        try {
            return http.send(request, body);
        } catch (HttpConnectTimeoutException e) {
            throw new RegistryException(
                    "Cannot reach " + server + " while " + doing + ": no connection within "
                            + CONNECT_TIMEOUT.toSeconds() + " s. Check ferry.registry.url and that the registry is "
                            + "reachable from Ferry.",
                    e);
        } catch (HttpTimeoutException e) {
            throw new RegistryException(
                    capitalized(server) + " did not answer within " + REQUEST_TIMEOUT.toSeconds() + " s while " + doing
                            + ": check that it is healthy.",
                    e);
        } catch (ConnectException e) {
            throw new RegistryException(
                    "Cannot reach " + server + " while " + doing + " (connection refused): "
                            + "check ferry.registry.url and that the registry is running.",
                    e);
        } catch (IOException e) {
            throw new RegistryException(
                    "Talking to " + server + " failed while " + doing + " ("
                            + e.getClass().getSimpleName() + "): check ferry.registry.url"
                            + (insecure ? "" : ", and ferry.registry.insecure if the registry speaks plain HTTP") + ".",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("Ferry was interrupted while " + doing + " at " + server + ".", e);
        }
    }

    private static String capitalized(String phrase) {
        return Character.toUpperCase(phrase.charAt(0)) + phrase.substring(1);
    }

    private boolean hasCredentials() {
        return !username.isEmpty() || !password.isEmpty();
    }

    private String describeUser() {
        return username.isEmpty() ? "anonymous access" : "user '" + username + "'";
    }

    private static String hostPort(URI uri) {
        return uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
    }

    private static String origin(String location) {
        try {
            return origin(URI.create(location));
        } catch (IllegalArgumentException e) {
            return "an unreadable address";
        }
    }

    /** scheme://host:port with the default port made explicit, so that two spellings of one origin compare equal. */
    private static String origin(URI uri) {
        if (uri.getHost() == null) {
            return String.valueOf(uri.getScheme());
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
        return uri.getScheme() + "://" + uri.getHost() + ":" + port;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RegistryClient[" + base + ", " + describeUser() + "]";
    }

    /** An Authorization header value; {@code toString} never shows it. */
    private record Credential(String header, boolean basic) {

        static Credential basic(String username, String password) {
            String pair = username + ":" + password;
            return new Credential(
                    "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)), true);
        }

        static Credential bearer(String token) {
            return new Credential("Bearer " + token, false);
        }

        @Override
        public String toString() {
            return basic ? "Basic ***" : "Bearer ***";
        }
    }

    private record Token(String value, Instant expires) {

        boolean expired(Instant now) {
            return !now.isBefore(expires);
        }

        @Override
        public String toString() {
            return "Token[***, expires=" + expires + "]";
        }
    }
}
