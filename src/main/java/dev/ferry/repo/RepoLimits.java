package dev.ferry.repo;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/** The sentences of Ferry's fetch limits: what was exceeded, the limit, and the setting that holds it. */
final class RepoLimits {

    private RepoLimits() {}

    static RepoException tooLarge(long maxBytes) {
        return new RepoException(
                413,
                "The repository is larger than this Ferry fetches (" + bytes(maxBytes)
                        + ", ferry.repo.max-fetch-size). Launch a smaller repository, or ask the operator to raise the limit.");
    }

    static RepoException tooManyObjects(long maxObjects, long offered) {
        return new RepoException(
                413,
                "The repository has more git objects than this Ferry fetches (" + offered + " offered, "
                        + maxObjects
                        + " allowed, ferry.repo.max-fetch-objects). Launch a smaller repository, or ask the operator "
                        + "to raise the limit.");
    }

    static RepoException tooSlow(Duration maxTime) {
        return new RepoException(
                504,
                "Fetching the repository took longer than this Ferry allows (" + duration(maxTime)
                        + ", ferry.repo.max-fetch-time). Try again later, or launch a smaller repository.");
    }

    static RepoException checkoutTooLarge(long maxBytes) {
        return new RepoException(
                413,
                "This repository's files add up to more than " + bytes(maxBytes) + " when checked out "
                        + "(Ferry's limit for one repository, ferry.repo.max-checkout-size). Launch a smaller repository, or ask the "
                        + "operator to raise the limit.");
    }

    static RepoException tooManyFiles(long maxFiles) {
        return new RepoException(
                413,
                "This repository holds more than " + maxFiles + " files and folders when checked out "
                        + "(Ferry's limit for one repository, ferry.repo.max-checkout-files). Launch a smaller repository, or ask the "
                        + "operator to raise the limit.");
    }

    static RepoException malformedTree(String detail) {
        return new RepoException(
                422,
                "The repository's commit holds a malformed tree that git itself would refuse to check "
                        + "out (" + Urls.printable(String.valueOf(detail))
                        + "). Fix the repository (git fsck names the problem), "
                        + "or launch another commit.");
    }

    /** A scheme Ferry does not fetch over, met on a later connection (an HTTP alternate) rather than in the URL. */
    static RepoException schemeNotAllowed(String scheme, Set<String> allowed) {
        return new RepoException(
                400,
                "The repository sends Ferry to fetch its objects over " + Urls.printable(scheme)
                        + ", which this Ferry does not use (ferry.repo.allowed-schemes: "
                        + String.join(", ", new TreeSet<>(allowed))
                        + "). Serve every object of the repository from its own URL.");
    }

    static RepoException diskFullCheckingOut() {
        return new RepoException(
                507,
                "The Ferry server ran out of disk space while checking out this repository (No space "
                        + "left on device). What the checkout wrote has been removed; launch again later, and tell the operator if it "
                        + "keeps happening.");
    }

    /** Ferry's own disk filled up while the repository was written to it: not the repository's fault. */
    static RepoException diskFull() {
        return new RepoException(
                507,
                "The Ferry server ran out of disk space while fetching this repository (No space "
                        + "left on device). What the fetch wrote has been removed; launch again later, and tell the operator if it "
                        + "keeps happening.");
    }

    static String bytes(long n) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        double value = n;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1 && value % 1024 == 0) {
            value /= 1024;
            unit++;
        }
        return (long) value + " " + units[unit];
    }

    static String duration(Duration d) {
        if (d.toMillis() < 1000) {
            return d.toMillis() + " ms";
        }
        long s = d.toSeconds();
        if (s >= 60 && s % 60 == 0) {
            return (s / 60) + " min";
        }
        return s + " s";
    }
}
