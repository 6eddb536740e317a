package dev.ferry.repo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Writes the files of one version of a record into a folder, the way repo2docker does: each file at its name (names
 * checked like archive entries: nothing outside the folder, nothing through a link), or, for a record that is a
 * single archive ({@link ArchiveRecord#unpackSingle()}), that archive unpacked into the folder. Downloads go through
 * the {@link ArchiveFetcher} (guard, byte and time budget); a file whose checksum the archive gave must match it,
 * since the checksums are the cache key; what the files add up to is bounded like a checkout. A failed fetch leaves
 * the folder empty.
 */
public final class RecordDownloader {

    private final ArchiveFetcher fetcher;
    private final ArchiveUnpacker unpacker;
    private final long maxBytes;
    private final long maxFiles;

    /**
     * @param maxBytes bytes the files may add up to (0: no limit), as {@code ferry.repo.max-checkout-size}
     * @param maxFiles files a record may hold (0: no limit), as {@code ferry.repo.max-checkout-files}
     */
    public RecordDownloader(ArchiveFetcher fetcher, long maxBytes, long maxFiles) {
        this.fetcher = fetcher;
        this.unpacker = new ArchiveUnpacker(maxBytes, maxFiles);
        this.maxBytes = maxBytes;
        this.maxFiles = maxFiles;
    }

    public ArchiveFetcher fetcher() {
        return fetcher;
    }

    /** Fetches the record's files into {@code dir} (created if missing, must be empty); {@code log} hears progress. */
    public void fetchInto(ArchiveRecord record, Path dir, Consumer<String> log) {
        fetchInto(record, dir, dir.resolveSibling(dir.getFileName() + ".fetching"), log);
    }

    /**
     * As {@link #fetchInto(ArchiveRecord, Path, Consumer)}, with scratch files (the download, the unpacking) in
     * {@code scratch}: a folder on the same file system as {@code dir} (it may lie inside it), removed afterwards.
     */
    public void fetchInto(ArchiveRecord record, Path dir, Path scratch, Consumer<String> log) {
        boolean done = false;
        try {
            Files.createDirectories(dir);
            RepoCheckout.deleteTree(scratch);
            Files.createDirectories(scratch);
            ArchiveFetcher.Fetch fetch = fetcher.begin();
            if (maxFiles > 0 && record.files().size() > maxFiles) {
                throw new RepoException(
                        413,
                        "This record holds " + record.files().size() + " files, more than this Ferry "
                                + "fetches (" + maxFiles
                                + ", ferry.repo.max-checkout-files). Launch a smaller record, or ask the "
                                + "operator to raise the limit.");
            }
            long total = 0;
            for (ArchiveRecord.ArchiveFile file : record.files()) {
                total += Math.max(0, file.size());
            }
            if (maxBytes > 0 && total > maxBytes) {
                throw new RepoException(
                        413,
                        "This record's files add up to more than " + RepoLimits.bytes(maxBytes)
                                + " (Ferry's limit for one repository, ferry.repo.max-checkout-size). Launch a smaller record, or "
                                + "ask the operator to raise the limit.");
            }
            if (record.unpackSingle() && record.files().size() == 1) {
                ArchiveRecord.ArchiveFile file = record.files().get(0);
                Path download = scratch.resolve("download");
                try {
                    log.accept("Fetching " + Urls.printable(file.name()));
                    fetch.download(file.url(), download, file.name());
                    verify(download, file);
                    if (ArchiveUnpacker.isArchive(download)) {
                        log.accept("Extracting " + Urls.printable(file.name()));
                        unpacker.unpack(download, dir, scratch.resolve("unpacking"), file.name());
                        promoteBagPayload(dir, scratch.resolve("payload"));
                    } else if (file.name().endsWith(".zip") && file.size() < 0) {
                        // an archive prepared on demand (a HydroShare bag) answers with a status page until it is ready
                        throw new RepoException(
                                503,
                                "The archive is still preparing the download of this record. Launch "
                                        + "again in a minute.");
                    } else {
                        Path target = place(dir, file.name());
                        Files.move(download, target);
                    }
                } finally {
                    Files.deleteIfExists(download);
                }
            } else {
                for (ArchiveRecord.ArchiveFile file : record.files()) {
                    Path target = place(dir, file.name());
                    log.accept("Fetching " + Urls.printable(file.name()));
                    fetch.download(file.url(), target, file.name());
                    verify(target, file);
                }
            }
            done = true;
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("No space left on device")) {
                throw RepoLimits.diskFull();
            }
            throw new RepoException(
                    500,
                    "Writing the record's files failed on the Ferry server ("
                            + e.getClass().getSimpleName()
                            + "). Launch again; tell the operator if it keeps happening.",
                    e);
        } finally {
            try {
                RepoCheckout.deleteTree(scratch);
            } catch (IOException e) {
                // the caller removes the whole build folder
            }
            if (!done && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                clear(dir);
            }
        }
    }

    /**
     * A BagIt bag (HydroShare's download: {@code bagit.txt}, manifests, {@code data/contents/…}) holds the record's
     * files in its payload folder: that folder becomes the root, as repo2docker does. Links are checked again against
     * the new root, since it lies two levels deeper.
     */
    private static void promoteBagPayload(Path dir, Path scratch) throws IOException {
        Path payload = dir.resolve("data").resolve("contents");
        if (!Files.isRegularFile(dir.resolve("bagit.txt"), LinkOption.NOFOLLOW_LINKS)
                || !Files.isDirectory(payload, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        ArchiveUnpacker.checkLinks(payload);
        Files.move(payload, scratch);
        clear(dir);
        try (var children = Files.list(scratch)) {
            for (Path child : children.toList()) {
                Files.move(child, dir.resolve(child.getFileName().toString()));
            }
        }
    }

    /** Where a file of the record goes: its name checked like an archive entry, its folders created, none a link. */
    private static Path place(Path dir, String name) throws IOException {
        Path target = ArchiveUnpacker.safePath(dir, name, "The record");
        if (target == null) {
            throw new RepoException(422, "The record lists a file without a name. Ask the record's authors to fix it.");
        }
        Path current = dir;
        for (Path part : dir.relativize(target.getParent())) {
            if (part.toString().isEmpty()) {
                continue;
            }
            current = current.resolve(part);
            if (Files.isSymbolicLink(current)
                    || (Files.exists(current, LinkOption.NOFOLLOW_LINKS)
                            && !Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS))) {
                throw new RepoException(
                        422,
                        "The record lists '" + Urls.printable(name) + "' inside another of its "
                                + "files. Ask the record's authors to fix its file names.");
            }
            if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(current);
            }
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new RepoException(
                    422,
                    "The record lists '" + Urls.printable(name) + "' twice. Ask the record's authors "
                            + "to fix its file names.");
        }
        return target;
    }

    /** A file must match the checksum the archive gave for it: the checksums name the build. */
    static void verify(Path file, ArchiveRecord.ArchiveFile expected) throws IOException {
        String checksum = expected.checksum();
        int colon = checksum.indexOf(':');
        if (colon <= 0) {
            return;
        }
        String algorithm = switch (checksum.substring(0, colon).toLowerCase(Locale.ROOT)) {
            case "md5" -> "MD5";
            case "sha1" -> "SHA-1";
            case "sha256" -> "SHA-256";
            case "sha512" -> "SHA-512";
            default -> null;
        };
        if (algorithm == null) {
            return;
        }
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            return;
        }
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equalsIgnoreCase(checksum.substring(colon + 1).trim())) {
            throw new RepoException(
                    502,
                    Urls.printable(expected.name()) + " did not arrive as the archive describes it "
                            + "(its " + algorithm
                            + " checksum differs). Launch again; if it keeps happening, the archive serves a "
                            + "damaged file.");
        }
    }

    private static void clear(Path dir) {
        try (var children = Files.list(dir)) {
            for (Path child : children.toList()) {
                RepoCheckout.deleteTree(child);
            }
        } catch (IOException e) {
            // the caller removes the whole build folder when its build fails
        }
    }
}
