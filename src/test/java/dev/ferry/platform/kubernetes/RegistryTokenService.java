package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.json.JsonMapper;

/**
 * The token service of a registry that uses Bearer authentication (the Docker token protocol), for tests: an HTTP
 * endpoint on 127.0.0.1 that answers {@code GET /token?service=…&scope=…} with a JWT granting every action asked for,
 * signed with its own RSA key. Its self-signed certificate ({@link #certificateBundle()}) is what the real registry
 * trusts ({@code auth.token.rootcertbundle}); each JWT carries it in {@code x5c}.
 *
 * <p>With an account set, the endpoint wants it as Basic credentials and answers 401 otherwise, like a private
 * registry's auth service; without one, it issues tokens to anyone.
 */
public final class RegistryTokenService implements AutoCloseable {

    public static final String SERVICE = "ferry-test-registry";
    public static final String ISSUER = "ferry-test-token-service";

    private final HttpServer server;
    private final KeyPair keys;
    private final X509Certificate certificate;
    private final Path certificateBundle;
    private final String expectedAuthorization;
    private final long expiresInSeconds;
    private final AtomicInteger requests = new AtomicInteger();
    private final JsonMapper json = JsonMapper.builder().build();

    /**
     * @param username         the account it wants (Basic), or null for anonymous tokens
     * @param expiresInSeconds the {@code expires_in} it answers with
     */
    public RegistryTokenService(String username, String password, long expiresInSeconds) throws Exception {
        this.expectedAuthorization = username == null
                ? null
                : "Basic "
                        + Base64.getEncoder()
                                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
        this.expiresInSeconds = expiresInSeconds;
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        keys = generator.generateKeyPair();
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=" + ISSUER);
        certificate = new JcaX509CertificateConverter()
                .getCertificate(new JcaX509v3CertificateBuilder(
                                name,
                                BigInteger.valueOf(now.toEpochMilli()),
                                Date.from(now.minusSeconds(3600)),
                                Date.from(now.plusSeconds(86_400)),
                                name,
                                keys.getPublic())
                        .build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate())));
        certificateBundle = Files.createTempFile("ferry-registry-token-ca", ".pem");
        Files.writeString(
                certificateBundle,
                "-----BEGIN CERTIFICATE-----\n"
                        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                                .encodeToString(certificate.getEncoded())
                        + "\n-----END CERTIFICATE-----\n");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/token", this::token);
        server.start();
    }

    /** The realm to configure the registry with. */
    public String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    /** The PEM file of the certificate the registry trusts. */
    public Path certificateBundle() {
        return certificateBundle;
    }

    /** How many token requests arrived (including refused ones). */
    public int requests() {
        return requests.get();
    }

    private void token(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            if (expectedAuthorization != null
                    && !expectedAuthorization.equals(
                            exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"" + SERVICE + "\"");
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            List<Map<String, Object>> access = new ArrayList<>();
            String query = exchange.getRequestURI().getRawQuery();
            for (String pair : query == null ? new String[0] : query.split("&")) {
                if (pair.startsWith("scope=")) {
                    // repository:<name>:<action>[,<action>…]
                    String[] scope = URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8)
                            .split(":");
                    access.add(Map.of("type", scope[0], "name", scope[1], "actions", List.of(scope[2].split(","))));
                }
            }
            String jwt = sign(access);
            byte[] body = json.writeValueAsBytes(Map.of(
                    "token",
                    jwt,
                    "access_token",
                    jwt,
                    "expires_in",
                    expiresInSeconds,
                    "issued_at",
                    Instant.now().toString()));
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private String sign(List<Map<String, Object>> access) throws GeneralSecurityException {
        long now = Instant.now().getEpochSecond();
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("typ", "JWT");
        header.put("alg", "RS256");
        header.put("x5c", List.of(Base64.getEncoder().encodeToString(certificate.getEncoded())));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", ISSUER);
        claims.put("sub", "ferry");
        claims.put("aud", SERVICE);
        claims.put("iat", now);
        claims.put("nbf", now - 10);
        claims.put("exp", now + expiresInSeconds);
        claims.put("jti", UUID.randomUUID().toString());
        claims.put("access", access);
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String input = url.encodeToString(json.writeValueAsBytes(header)) + "."
                + url.encodeToString(json.writeValueAsBytes(claims));
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(keys.getPrivate());
        signature.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + url.encodeToString(signature.sign());
    }

    @Override
    public void close() throws IOException {
        server.stop(0);
        Files.deleteIfExists(certificateBundle);
    }
}
