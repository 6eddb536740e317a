package dev.ferry.platform;

import org.springframework.context.annotation.Configuration;

/**
 * The kubernetes platform is not part of this version yet. Choosing it (explicitly, or by {@code auto} on a machine
 * with a kubeconfig) stops startup with a sentence that says what to do, rather than starting a portal that cannot
 * launch anything.
 */
@Configuration(proxyBeanMethods = false)
@OnPlatform(Platforms.KUBERNETES)
class KubernetesPlatformConfiguration {

    KubernetesPlatformConfiguration() {
        throw new IllegalStateException("The kubernetes platform is not available in this version of Ferry. "
                + "Set ferry.platform=local to run on this machine.");
    }
}
