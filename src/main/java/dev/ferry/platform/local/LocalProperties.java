package dev.ferry.platform.local;

import java.nio.file.Path;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The embedded local platform ({@code ferry.local.*}).
 *
 * @param workDir              where environments ({@code envs/}) and running sessions ({@code sessions/}) live; the
 *                             environments are the build cache and survive restarts
 * @param python               the interpreter environments are created from; empty means the first {@code python3}
 *                             on the PATH that can import a Jupyter server (or the first {@code python3} at all, in
 *                             which case Jupyter is installed into each environment)
 * @param systemSitePackages   create environments with {@code --system-site-packages}, so that packages installed on
 *                             the host (Jupyter above all) are visible without downloading them again
 * @param passEnv              environment variables of the portal passed on to builds and notebook servers (proxy
 *                             and package index settings); everything else is withheld so that the portal's secrets
 *                             never reach repository code
 */
@ConfigurationProperties("ferry.local")
public record LocalProperties(
        Path workDir,
        @DefaultValue("") String python,
        @DefaultValue("true") boolean systemSitePackages,
        @DefaultValue({"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "TZ"}) List<String> passEnv) {

    public LocalProperties {
        if (workDir == null) {
            workDir = Path.of(System.getProperty("user.home"), ".cache", "ferry");
        }
        workDir = workDir.toAbsolutePath().normalize();
    }
}
