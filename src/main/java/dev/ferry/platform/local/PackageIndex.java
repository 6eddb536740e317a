package dev.ferry.platform.local;

import java.util.regex.Pattern;

/**
 * Tells a pip failure caused by an unreachable package index (no network, a proxy or DNS problem, the index down)
 * from one caused by the repository's package names, from pip's own output, so that the user is not told to check
 * names that are fine.
 */
final class PackageIndex {

    /** What pip and urllib3 print when the index cannot be reached (pip retries, then gives up). */
    private static final Pattern UNREACHABLE = Pattern.compile("NewConnectionError|Failed to establish a new connection"
            + "|Temporary failure in name resolution|Name or service not known|Network is unreachable|ConnectTimeoutError"
            + "|ProxyError|Max retries exceeded with url|Connection refused|No route to host");

    private PackageIndex() {}

    static boolean unreachable(String pipOutputLine) {
        return UNREACHABLE.matcher(pipOutputLine).find();
    }

    /** The failure of a pip step that could not reach the index; {@code file} is the file whose packages it installed. */
    static String message(String file) {
        return "Installing the packages of " + file + " failed because the package index could not be reached from the "
                + "Ferry server (pip's connection errors are in the log); the package names were not the problem. Launch "
                + "again later; if it keeps happening, the operator should check the server's network, proxy "
                + "(HTTPS_PROXY) or package index (PIP_INDEX_URL).";
    }
}
