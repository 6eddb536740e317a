package dev.ferry.platform.kubernetes;

import okhttp3.OkHttpClient;

/**
 * Adjusts the HTTP client the kubernetes platform talks to the API server with (a bean of this type is applied to
 * every client Ferry builds): extra trust, a proxy, or — in tests against an API double — a watch transport.
 */
@FunctionalInterface
public interface KubernetesHttpCustomizer {

    void customize(OkHttpClient.Builder builder);
}
