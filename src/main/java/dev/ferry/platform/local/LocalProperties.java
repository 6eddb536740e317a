package dev.ferry.platform.local;

import java.nio.file.Path;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

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
 * @param sandbox              {@code bubblewrap}: every build step and notebook server runs in its own bubblewrap
 *                             sandbox (see docs/security.md), and Ferry refuses to start where bubblewrap does not
 *                             work; {@code none}: repository code runs unconfined as Ferry's user, which only the
 *                             operator may choose, for a machine whose users are trusted
 * @param bubblewrap           the {@code bwrap} program; empty means the first {@code bwrap} on the PATH
 * @param maxServerLog         how much of a notebook server's output its {@code server.log} keeps from the start; past
 *                             it only the last 16 KiB are kept (added when the server ends), so a repository that
 *                             prints without end cannot fill the disk
 */
@ConfigurationProperties("ferry.local")
public record LocalProperties(
        Path workDir,
        @DefaultValue("") String python,
        @DefaultValue("true") boolean systemSitePackages,

        @DefaultValue({
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "http_proxy",
            "https_proxy",
            "no_proxy",
            "PIP_INDEX_URL",
            "PIP_EXTRA_INDEX_URL",
            "PIP_TRUSTED_HOST",
            "TZ"
        })
        List<String> passEnv,

        @DefaultValue("bubblewrap") SandboxKind sandbox,
        @DefaultValue("") String bubblewrap,
        @DefaultValue("8MB") DataSize maxServerLog) {

    /** How repository code is confined on the local platform. */
    public enum SandboxKind {
        /** Each build step and notebook server in its own bubblewrap sandbox. */
        BUBBLEWRAP,
        /** No isolation: repository code runs as Ferry's user. */
        NONE
    }

    public LocalProperties {
        if (workDir == null) {
            workDir = Path.of(System.getProperty("user.home"), ".cache", "ferry");
        }
        workDir = workDir.toAbsolutePath().normalize();
        if (sandbox == null) {
            sandbox = SandboxKind.BUBBLEWRAP;
        }
        if (bubblewrap == null) {
            bubblewrap = "";
        }
        if (maxServerLog == null) {
            maxServerLog = DataSize.ofMegabytes(8);
        }
    }
}
