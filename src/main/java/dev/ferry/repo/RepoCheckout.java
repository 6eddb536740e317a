package dev.ferry.repo;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
import org.eclipse.jgit.errors.CorruptObjectException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectChecker;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;

/**
 * Writes a fetched commit's files next to its {@code .git}, within a bound on bytes and on files: a few hundred KB of
 * compressed zeros can hold gigabytes, so the bound is on what is written, and it is checked from each blob's size in
 * the object database before the blob is written. Every tree is checked (git's fsck rules: no {@code .git}, {@code ..}
 * or {@code /} in names, no duplicates, known modes) before anything in it is written. Symbolic links are written as
 * links, never followed; submodules become empty folders, as with git. A refused checkout leaves only {@code .git}.
 * Afterwards HEAD points at the commit and the index matches the tree, so {@code git status} in a session is clean.
 */
public final class RepoCheckout {

    /** Defaults of {@code ferry.repo.max-checkout-size} and {@code ferry.repo.max-checkout-files}. */
    public static final long DEFAULT_MAX_BYTES = 1L << 30;

    public static final long DEFAULT_MAX_FILES = 100_000;
    /** A symbolic link's target is a path: longer than any file system allows is not one. */
    private static final int MAX_LINK_TARGET = 4096;
    /** Folders nested deeper than git itself checks out ({@code core.maxTreeDepth}'s default). */
    static final int MAX_DEPTH = 2048;

    private final long maxBytes;
    private final long maxFiles;

    /**
     * @param maxBytes bytes the checked-out files may add up to (0: no limit)
     * @param maxFiles files, folders and links the checkout may hold (0: no limit)
     */
    public RepoCheckout(long maxBytes, long maxFiles) {
        this.maxBytes = maxBytes;
        this.maxFiles = maxFiles;
    }

    public long maxBytes() {
        return maxBytes;
    }

    public long maxFiles() {
        return maxFiles;
    }

    /** A byte count as Ferry's sentences write it ({@code 1 GiB}, {@code 50 MiB}). */
    public static String bytes(long n) {
        return RepoLimits.bytes(n);
    }

    /** Checks out {@code commit} into the work tree of {@code repo} (which holds nothing but {@code .git}). */
    public void checkout(Repository repo, String commit) {
        Path dir = repo.getWorkTree().toPath();
        boolean done = false;
        try (ObjectReader reader = repo.newObjectReader();
                RevWalk walk = new RevWalk(reader)) {
            RevCommit parsed = walk.parseCommit(ObjectId.fromString(commit));
            writeTree(reader, parsed.getTree(), dir, new Count(), 0);
            writeIndex(repo, reader, parsed.getTree());
            RefUpdate head = repo.updateRef(Constants.HEAD, true);
            head.setNewObjectId(parsed);
            head.forceUpdate();
            done = true;
        } catch (CorruptObjectException
                | MissingObjectException
                | InvalidPathException
                | FileAlreadyExistsException e) {
            throw RepoLimits.malformedTree(e.getMessage());
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("File name too long")) {
                throw RepoLimits.malformedTree("a path longer than this file system allows");
            }
            if (String.valueOf(e.getMessage()).contains("No space left on device")) {
                throw RepoLimits.diskFullCheckingOut();
            }
            throw new RepoException(
                    500,
                    "Checking out the repository failed on the Ferry server ("
                            + e.getClass().getSimpleName()
                            + "). Launch again; tell the operator if it keeps happening.",
                    e);
        } finally {
            if (!done) {
                removeAllBut(dir, Constants.DOT_GIT);
            }
        }
    }

    /** What the checkout has written so far. */
    private static final class Count {
        long bytes;
        long files;
    }

    private void writeTree(ObjectReader reader, ObjectId tree, Path dir, Count count, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new CorruptObjectException("folders nested deeper than " + MAX_DEPTH);
        }
        ObjectLoader loader = reader.open(tree, Constants.OBJ_TREE);
        // a tree lists names; one larger than the byte bound cannot check out within it either
        if (maxBytes > 0 && loader.getSize() > maxBytes) {
            throw RepoLimits.checkoutTooLarge(maxBytes);
        }
        byte[] raw = loader.getCachedBytes(Integer.MAX_VALUE - 8);
        checker().checkTree(tree, raw);
        CanonicalTreeParser entries = new CanonicalTreeParser();
        entries.reset(raw);
        for (; !entries.eof(); entries.next()) {
            countFile(count);
            Path target = dir.resolve(entries.getEntryPathString());
            FileMode mode = entries.getEntryFileMode();
            ObjectId id = entries.getEntryObjectId();
            if (mode == FileMode.TREE) {
                Files.createDirectory(target);
                writeTree(reader, id, target, count, depth + 1);
            } else if (mode == FileMode.REGULAR_FILE || mode == FileMode.EXECUTABLE_FILE) {
                writeBlob(reader.open(id, Constants.OBJ_BLOB), target, count);
                if (mode == FileMode.EXECUTABLE_FILE) {
                    target.toFile().setExecutable(true, false);
                }
            } else if (mode == FileMode.SYMLINK) {
                writeLink(reader.open(id, Constants.OBJ_BLOB), target, count);
            } else if (mode == FileMode.GITLINK) {
                Files.createDirectory(target);
            } else {
                throw new CorruptObjectException("an entry " + entries.getEntryPathString() + " with an unknown mode");
            }
        }
    }

    private void countFile(Count count) {
        if (maxFiles > 0 && ++count.files > maxFiles) {
            throw RepoLimits.tooManyFiles(maxFiles);
        }
    }

    private void countBytes(Count count, long size) {
        count.bytes += size;
        if (maxBytes > 0 && count.bytes > maxBytes) {
            throw RepoLimits.checkoutTooLarge(maxBytes);
        }
    }

    private void writeBlob(ObjectLoader blob, Path target, Count count) throws IOException {
        countBytes(count, blob.getSize()); // the size from the object's header: refused before a byte is written
        try (OutputStream out = Files.newOutputStream(
                target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            blob.copyTo(out);
        }
    }

    private void writeLink(ObjectLoader blob, Path target, Count count) throws IOException {
        if (blob.getSize() > MAX_LINK_TARGET) {
            throw new CorruptObjectException("a symbolic link " + target.getFileName() + " longer than a path can be");
        }
        countBytes(count, blob.getSize());
        String to = new String(blob.getCachedBytes(), StandardCharsets.UTF_8);
        if (to.isEmpty() || to.indexOf('\0') >= 0) {
            throw new CorruptObjectException("a symbolic link " + target.getFileName() + " without a target");
        }
        Files.createSymbolicLink(target, Path.of(to));
    }

    /** git's fsck rules for trees; zero-padded modes are a harmless quirk of old git versions, as git's fsck says. */
    private static ObjectChecker checker() {
        return new ObjectChecker().setIgnore(ObjectChecker.ErrorType.ZERO_PADDED_FILEMODE, true);
    }

    private static void writeIndex(Repository repo, ObjectReader reader, ObjectId tree) throws IOException {
        DirCache index = repo.lockDirCache();
        try {
            DirCacheBuilder builder = index.builder();
            builder.addTree(new byte[0], 0, reader, tree);
            builder.commit();
        } finally {
            index.unlock();
        }
    }

    private static void removeAllBut(Path dir, String keep) {
        try (var children = Files.list(dir)) {
            for (Path child : children.toList()) {
                if (!child.getFileName().toString().equals(keep)) {
                    deleteTree(child);
                }
            }
        } catch (IOException e) {
            // the caller removes the whole directory when its build fails
        }
    }

    static void deleteTree(Path path) throws IOException {
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            try (var children = Files.list(path)) {
                for (Path child : children.toList()) {
                    deleteTree(child);
                }
            }
        }
        Files.deleteIfExists(path);
    }
}
