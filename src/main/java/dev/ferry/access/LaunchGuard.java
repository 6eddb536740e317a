package dev.ferry.access;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Who may launch: requests from banned networks are refused; build API requests beyond an address's rate limit are
 * refused too, unless they carry an unused build token that Ferry's own launch page gave the same address. Launch
 * pages hand out tokens at a limited rate per address, so that a script cannot mint itself an exemption per launch.
 * The client address comes from {@link ClientAddresses} (trusted proxies only).
 */
public final class LaunchGuard {

    /** A refusal: the status, the sentence, and headers to send (the {@code x-ratelimit-*} numbers). */
    public record Refusal(int status, String message, Map<String, String> headers) {}

    /** A build API request let through, and whether a build token let it ({@code build_token} of launch events). */
    public record Admission(Refusal refusal, boolean withToken) {
        static final Admission PLAIN = new Admission(null, false);
    }

    private final ClientAddresses addresses;
    private final CidrSet banned;
    private final RateLimiter limiter;
    private final BuildTokens tokens;
    private final RateLimiter tokenIssue;

    LaunchGuard(
            ClientAddresses addresses,
            CidrSet banned,
            RateLimiter limiter,
            BuildTokens tokens,
            RateLimiter tokenIssue) {
        this.addresses = addresses;
        this.banned = banned;
        this.limiter = limiter;
        this.tokens = tokens;
        this.tokenIssue = tokenIssue;
    }

    public String clientAddress(HttpServletRequest request) {
        return addresses.of(request);
    }

    /** For launch pages and workshop links: only bans apply. */
    public Refusal checkPage(HttpServletRequest request) {
        return banned.contains(addresses.of(request)) ? bannedRefusal() : null;
    }

    /**
     * For a new launch through the build API: bans, then the rate limit unless {@code build_token} was issued for this
     * launch to this client and has a use left (which this spends). A token that does not pass counts as none: the
     * request falls under the rate limit, as a script's or Thebe's does. Without a rate limit no token is looked at.
     */
    public Admission checkBuild(HttpServletRequest request, String launch, Map<String, String> responseHeaders) {
        String client = addresses.of(request);
        if (banned.contains(client)) {
            return new Admission(bannedRefusal(), false);
        }
        if (!limiter.enabled()) {
            return Admission.PLAIN;
        }
        if (tokens.redeem(request.getParameter("build_token"), launch, client, Instant.now())) {
            return new Admission(null, true);
        }
        RateLimiter.Decision d = limiter.take(client, System.nanoTime());
        responseHeaders.put("x-ratelimit-limit", Integer.toString(d.limit()));
        responseHeaders.put("x-ratelimit-remaining", Integer.toString(d.remaining()));
        responseHeaders.put("x-ratelimit-reset", Long.toString(d.resetSeconds()));
        if (d.allowed()) {
            return Admission.PLAIN;
        }
        return new Admission(
                new Refusal(
                        429,
                        "Too many launches from your address: the limit is " + d.limit() + " a minute. "
                                + "Try again in " + d.resetSeconds()
                                + " seconds, or launch from this Ferry's launch page, which is not limited.",
                        new LinkedHashMap<>(responseHeaders)),
                false);
    }

    /**
     * A build token for the launch page of {@code launch} ({@code <provider>/<spec>}), bound to the page's visitor; null
     * when that address was given as many tokens as {@code ferry.rate-limit.tokens-per-minute} allows (the page then
     * launches without one, under the rate limit).
     */
    public String tokenFor(String launch, HttpServletRequest request) {
        String client = addresses.of(request);
        if (tokenIssue.enabled() && !tokenIssue.take(client, System.nanoTime()).allowed()) {
            return null;
        }
        return tokens.issue(launch, client, Instant.now());
    }

    private static Refusal bannedRefusal() {
        return new Refusal(
                403,
                "Requests from your network are not accepted by this Ferry. If you think this is a "
                        + "mistake, contact its operator.",
                Map.of());
    }
}
