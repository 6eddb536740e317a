package dev.ferry.repo;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;

/**
 * Unpacks a downloaded zip or tar (plain or gzip) archive into a folder, streaming, within the checkout limits
 * ({@code ferry.repo.max-checkout-size}, {@code ferry.repo.max-checkout-files}): the bound is on the bytes actually
 * written, not on what the archive claims, so a zip bomb stops at the limit. No entry may land outside the folder:
 * absolute names, {@code ..}, backslashes and NUL are refused, nothing is ever written through a symbolic link, and a
 * symbolic link is created only when its target provably stays inside (relative, any {@code ..} only at its start,
 * not climbing above the folder); hard links, devices and fifos are refused. A refused archive leaves the folder
 * empty. A single top-level folder is unpacked into the root, as repo2docker does.
 */
public final class ArchiveUnpacker {

    /** A symbolic link's target is a path: longer than any file system allows is not one. */
    private static final int MAX_LINK_TARGET = 4096;

    private static final int MAX_DEPTH = 256;

    private final long maxBytes;
    private final long maxFiles;

    /**
     * @param maxBytes bytes the unpacked files may add up to (0: no limit)
     * @param maxFiles files, folders and links the folder may hold (0: no limit)
     */
    public ArchiveUnpacker(long maxBytes, long maxFiles) {
        this.maxBytes = maxBytes;
        this.maxFiles = maxFiles;
    }

    /** What kind of archive a file is, by its first bytes. */
    enum Kind {
        ZIP,
        TAR,
        TAR_GZ,
        NONE
    }

    static Kind kind(Path file) throws IOException {
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 4
                && head[0] == 'P'
                && head[1] == 'K'
                && (head[2] == 3 || head[2] == 5)
                && (head[3] == 4 || head[3] == 6)) {
            return Kind.ZIP;
        }
        if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return Kind.TAR_GZ;
        }
        if (n >= 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) {
            return Kind.TAR;
        }
        return Kind.NONE;
    }

    /** Whether the file is an archive this unpacker reads. */
    public static boolean isArchive(Path file) {
        try {
            return kind(file) != Kind.NONE;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Unpacks {@code archive} into {@code target} (an empty folder); a single top-level folder's contents land in
     * {@code target} itself. {@code name} is how sentences call the archive.
     */
    public void unpack(Path archive, Path target, String name) {
        unpack(archive, target, target.resolveSibling(target.getFileName() + ".unpacking"), name);
    }

    /** As {@link #unpack(Path, Path, String)}, staging in {@code staging} (on the target's file system, removed after). */
    public void unpack(Path archive, Path target, Path staging, String name) {
        boolean done = false;
        try {
            RepoCheckout.deleteTree(staging);
            Files.createDirectory(staging);
            Count count = new Count();
            switch (kind(archive)) {
                case ZIP -> unzip(archive, staging, count, name);
                case TAR -> untar(Files.newInputStream(archive), staging, count, name);
                case TAR_GZ ->
                    untar(new GZIPInputStream(Files.newInputStream(archive), 64 * 1024), staging, count, name);
                case NONE -> throw new RepoException(422, Urls.printable(name) + " is not a zip or tar archive.");
            }
            hoist(staging, target);
            done = true;
        } catch (LinkedParent e) {
            throw malformed(name, e.getMessage());
        } catch (FileAlreadyExistsException e) {
            throw malformed(name, "two entries for the same path " + relative(staging, e.getFile()));
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("No space left on device")) {
                throw RepoLimits.diskFullCheckingOut();
            }
            if (String.valueOf(e.getMessage()).contains("File name too long")) {
                throw malformed(name, "a path longer than this file system allows");
            }
            // the message of a reader's error may name server paths: only its kind is shown
            throw malformed(
                    name, "a damaged or truncated archive: " + e.getClass().getSimpleName());
        } finally {
            try {
                RepoCheckout.deleteTree(staging);
            } catch (IOException e) {
                // the caller removes the whole build folder when its build fails
            }
            if (!done) {
                clear(target);
            }
        }
    }

    private static String relative(Path root, String file) {
        if (file == null) {
            return "";
        }
        Path path = Path.of(file);
        return path.startsWith(root) ? root.relativize(path).toString() : String.valueOf(path.getFileName());
    }

    /** What has been written so far. */
    private static final class Count {
        long bytes;
        long files;
    }

    private void unzip(Path archive, Path dir, Count count, String name) throws IOException {
        try (ZipFile zip = ZipFile.builder().setPath(archive).get()) {
            Enumeration<ZipArchiveEntry> entries = zip.getEntriesInPhysicalOrder();
            while (entries.hasMoreElements()) {
                ZipArchiveEntry entry = entries.nextElement();
                Path path = safePath(dir, entry.getName(), name);
                if (path == null) {
                    continue; // the archive's root itself
                }
                countFile(count);
                if (entry.isDirectory()) {
                    directories(dir, path);
                } else if (entry.isUnixSymlink()) {
                    String to;
                    try (InputStream in = zip.getInputStream(entry)) {
                        byte[] raw = in.readNBytes(MAX_LINK_TARGET + 1);
                        if (raw.length > MAX_LINK_TARGET) {
                            throw malformed(name, "a symbolic link " + entry.getName() + " longer than a path can be");
                        }
                        to = new String(raw, StandardCharsets.UTF_8);
                    }
                    link(dir, path, to, entry.getName(), count, name);
                } else {
                    if (!zip.canReadEntryData(entry)) {
                        throw malformed(
                                name,
                                "the entry " + entry.getName() + " is encrypted or packed with a method Ferry "
                                        + "does not read");
                    }
                    try (InputStream in = zip.getInputStream(entry)) {
                        write(dir, path, in, count);
                    }
                    if ((entry.getUnixMode() & 0100) != 0) {
                        path.toFile().setExecutable(true, false);
                    }
                }
            }
        }
    }

    private void untar(InputStream raw, Path dir, Count count, String name) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(raw, 64 * 1024))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                if (entry.isGlobalPaxHeader() || entry.isPaxHeader()) {
                    continue;
                }
                Path path = safePath(dir, entry.getName(), name);
                if (path == null) {
                    continue;
                }
                countFile(count);
                if (entry.isDirectory()) {
                    directories(dir, path);
                } else if (entry.isSymbolicLink()) {
                    link(dir, path, entry.getLinkName(), entry.getName(), count, name);
                } else if (entry.isLink()) {
                    throw malformed(
                            name,
                            "a hard link " + entry.getName() + "; Ferry unpacks only files, folders and "
                                    + "symbolic links");
                } else if (entry.isFile()) {
                    write(dir, path, tar, count);
                    if ((entry.getMode() & 0100) != 0) {
                        path.toFile().setExecutable(true, false);
                    }
                } else {
                    throw malformed(name, "a special file (device or fifo) " + entry.getName());
                }
            }
        }
    }

    /**
     * The entry's place in {@code dir}, or null for the root itself; refuses names that are absolute, climb with
     * {@code ..}, hold a backslash, NUL or control characters, or nest deeper than any real record.
     */
    static Path safePath(Path dir, String entryName, String archiveName) {
        String name = entryName;
        if (name.isEmpty() || name.startsWith("/") || name.matches("^[A-Za-z]:.*") || name.indexOf('\\') >= 0) {
            throw unsafe(archiveName, entryName);
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..") || part.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw unsafe(archiveName, entryName);
            }
            parts.add(part);
        }
        if (parts.isEmpty()) {
            return null;
        }
        if (parts.size() > MAX_DEPTH) {
            throw malformed(archiveName, "folders nested deeper than " + MAX_DEPTH);
        }
        Path path = dir;
        for (String part : parts) {
            path = path.resolve(part);
        }
        if (!path.normalize().startsWith(dir)) {
            throw unsafe(archiveName, entryName);
        }
        return path;
    }

    /** Creates the folder and its parents, never through a symbolic link. */
    private static void directories(Path root, Path path) throws IOException {
        requireRealParents(root, path);
        if (Files.isSymbolicLink(path)
                || (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                        && !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS))) {
            throw new FileAlreadyExistsException(root.relativize(path).toString());
        }
        if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(path);
        }
    }

    /** Every folder from the root down to the entry's parent is a real folder (created if missing), none a link. */
    private static void requireRealParents(Path root, Path path) throws IOException {
        Path current = root;
        for (Path part : root.relativize(path.getParent() == null ? root : path.getParent())) {
            if (part.toString().isEmpty()) {
                continue;
            }
            current = current.resolve(part);
            if (Files.isSymbolicLink(current)) {
                throw new LinkedParent(root.relativize(path).toString());
            }
            if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(current);
            } else if (!Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(root.relativize(current).toString());
            }
        }
    }

    private void write(Path root, Path path, InputStream in, Count count) throws IOException {
        requireRealParents(root, path);
        try (OutputStream out = Files.newOutputStream(
                path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                countBytes(count, n); // what is written, whatever the archive claims
                out.write(buffer, 0, n);
            }
        }
    }

    /**
     * Creates a symbolic link only when its target provably stays inside {@code root}: relative, {@code ..} only as
     * leading parts (they climb real folders, since nothing is written through a link) and never above the root,
     * then only names descending. Whatever links it passes through obey the same rule, so it resolves inside.
     */
    private void link(Path root, Path path, String target, String entryName, Count count, String archiveName)
            throws IOException {
        if (!staysInside(root, path, target)) {
            throw linkOut(archiveName, entryName, target);
        }
        countBytes(count, target.length());
        requireRealParents(root, path);
        Files.createSymbolicLink(path, Path.of(target));
    }

    private void countFile(Count count) {
        if (maxFiles > 0 && ++count.files > maxFiles) {
            throw new RepoException(
                    413,
                    "This record's archive holds more than " + maxFiles + " files and folders when "
                            + "unpacked (Ferry's limit for one repository, ferry.repo.max-checkout-files). Launch a smaller record, "
                            + "or ask the operator to raise the limit.");
        }
    }

    private void countBytes(Count count, long n) {
        count.bytes += n;
        if (maxBytes > 0 && count.bytes > maxBytes) {
            throw new RepoException(
                    413,
                    "This record's files add up to more than " + RepoLimits.bytes(maxBytes) + " when "
                            + "unpacked (Ferry's limit for one repository, ferry.repo.max-checkout-size). Launch a smaller record, "
                            + "or ask the operator to raise the limit.");
        }
    }

    /** Moves what was unpacked into the target: a single top-level folder's contents, otherwise everything. */
    private static void hoist(Path staging, Path target) throws IOException {
        List<Path> top;
        try (var children = Files.list(staging)) {
            top = children.toList();
        }
        Path from = staging;
        if (top.size() == 1 && Files.isDirectory(top.get(0), LinkOption.NOFOLLOW_LINKS)) {
            from = top.get(0);
        }
        checkLinks(from);
        try (var children = Files.list(from)) {
            for (Path child : children.toList()) {
                Files.move(child, target.resolve(child.getFileName().toString()));
            }
        }
    }

    /**
     * Links were checked against the folder they were unpacked in; a top-level folder that becomes the root is one
     * level less deep, so every link is checked again against the new root before anything moves.
     */
    static void checkLinks(Path root) throws IOException {
        try (var all = Files.walk(root)) {
            for (Path path : all.filter(Files::isSymbolicLink).toList()) {
                String target = Files.readSymbolicLink(path).toString();
                if (!staysInside(root, path, target)) {
                    throw new RepoException(
                            422,
                            "The record's archive holds a symbolic link '"
                                    + Urls.printable(root.relativize(path).toString()) + "' pointing to '"
                                    + Urls.printable(target) + "', which "
                                    + "leads outside the record's folder once unpacked. Ferry only unpacks links that stay inside; "
                                    + "ask the record's authors to replace it with the file.");
                }
            }
        }
    }

    /** The rule of {@link #link}: relative, {@code ..} only leading and never above the root, then descending. */
    static boolean staysInside(Path root, Path link, String target) {
        if (target == null
                || target.isEmpty()
                || target.length() > MAX_LINK_TARGET
                || target.indexOf('\0') >= 0
                || target.startsWith("/")
                || target.indexOf('\\') >= 0) {
            return false;
        }
        Path parent = root.relativize(link.getParent());
        int depth = parent.toString().isEmpty() ? 0 : parent.getNameCount();
        boolean descending = false;
        for (String part : target.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (descending || --depth < 0) {
                    return false;
                }
            } else {
                descending = true;
            }
        }
        return true;
    }

    /** Empties the folder (what a refused archive wrote); the folder itself stays. */
    private static void clear(Path target) {
        try (var children = Files.list(target)) {
            for (Path child : children.toList()) {
                RepoCheckout.deleteTree(child);
            }
        } catch (IOException e) {
            // the caller removes the whole build folder when its build fails
        }
    }

    /** Names the entry written through a symbolic link of the same archive. */
    private static final class LinkedParent extends IOException {
        LinkedParent(String entry) {
            super("the entry " + entry + " lies inside a symbolic link of the archive");
        }
    }

    private static RepoException unsafe(String archiveName, String entryName) {
        return new RepoException(
                422,
                Urls.printable(archiveName) + " holds an entry named '" + Urls.printable(entryName)
                        + "', which would be written outside the record's folder. Ferry refuses such archives; ask the record's "
                        + "authors to upload one with plain relative names.");
    }

    private static RepoException linkOut(String archiveName, String entryName, String target) {
        return new RepoException(
                422,
                Urls.printable(archiveName) + " holds a symbolic link '" + Urls.printable(entryName)
                        + "' pointing to '" + Urls.printable(String.valueOf(target))
                        + "', which may lead outside the record's "
                        + "folder. Ferry only unpacks links that stay inside; ask the record's authors to replace it with the file.");
    }

    private static RepoException malformed(String archiveName, String detail) {
        return new RepoException(
                422,
                Urls.printable(archiveName) + " could not be unpacked (" + Urls.printable(String.valueOf(detail))
                        + "). Check that the record's archive opens on your computer.");
    }
}
