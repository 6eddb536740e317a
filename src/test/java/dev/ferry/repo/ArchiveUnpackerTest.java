package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile archives against the unpacker: each is refused with a sentence, nothing lands outside the target, and the
 * target is left empty. The archives are real zip and tar files written with the same library Ferry reads them with.
 */
class ArchiveUnpackerTest {

    private Path dir;
    private Path target;
    private Path outside;

    @BeforeEach
    void setUp() throws IOException {
        dir = dev.ferry.testing.TempDirs.deleteOnExit(Files.createTempDirectory("ferry-unpack"));
        outside = Files.createDirectories(dir.resolve("outside"));
        target = Files.createDirectories(dir.resolve("a").resolve("b").resolve("repo"));
    }

    @AfterEach
    void tearDown() throws IOException {
        RepoCheckout.deleteTree(dir);
    }

    /** One entry: name, content (null: a folder), link target (non-null: a symbolic link). */
    record Entry(String name, byte[] content, String link, int mode) {
        static Entry file(String name, String content) {
            return new Entry(name, content.getBytes(StandardCharsets.UTF_8), null, 0644);
        }

        static Entry link(String name, String to) {
            return new Entry(name, null, to, 0777);
        }
    }

    private Path zip(Entry... entries) throws IOException {
        Path file = dir.resolve("record.zip");
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(file)) {
            for (Entry e : entries) {
                ZipArchiveEntry entry = new ZipArchiveEntry(e.name());
                if (e.link() != null) {
                    entry.setUnixMode(0120777);
                    zip.putArchiveEntry(entry);
                    zip.write(e.link().getBytes(StandardCharsets.UTF_8));
                } else {
                    entry.setUnixMode(0100000 | e.mode());
                    zip.putArchiveEntry(entry);
                    if (e.content() != null) {
                        zip.write(e.content());
                    }
                }
                zip.closeArchiveEntry();
            }
        }
        return file;
    }

    private Path tarGz(Entry... entries) throws IOException {
        Path file = dir.resolve("record.tar.gz");
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(file));
                TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry e : entries) {
                TarArchiveEntry entry;
                if (e.link() != null) {
                    entry = new TarArchiveEntry(e.name(), TarArchiveEntry.LF_SYMLINK);
                    entry.setLinkName(e.link());
                } else if (e.content() == null) {
                    entry = new TarArchiveEntry(e.name().endsWith("/") ? e.name() : e.name() + "/");
                } else {
                    entry = new TarArchiveEntry(e.name(), true); // keep an absolute name as a hostile archive would
                    entry.setSize(e.content().length);
                    entry.setMode(0100000 | e.mode());
                }
                tar.putArchiveEntry(entry);
                if (e.content() != null) {
                    tar.write(e.content());
                }
                tar.closeArchiveEntry();
            }
        }
        return file;
    }

    private ArchiveUnpacker unpacker() {
        return new ArchiveUnpacker(1 << 20, 100);
    }

    private void assertRefusedLeavingNothing(Path archive, int status, String sentence) throws IOException {
        assertThatThrownBy(() -> unpacker().unpack(archive, target, "record.zip"))
                .isInstanceOf(RepoException.class)
                .hasMessageContaining(sentence)
                .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(status))
                .satisfies(e -> assertThat(e.getMessage())
                        .as("server paths in the sentence")
                        .doesNotContain(target.getParent().toString()));
        try (var left = Files.list(target)) {
            assertThat(left.toList())
                    .as("what the refused archive left in the target")
                    .isEmpty();
        }
        try (var all = Files.walk(dir)) {
            assertThat(all.filter(p -> p.getFileName().toString().startsWith("evil"))
                            .toList())
                    .as("files written anywhere")
                    .isEmpty();
        }
        try (var siblings = Files.list(target.getParent())) {
            assertThat(siblings.toList()).as("staging left beside the target").containsExactly(target);
        }
    }

    @Test
    void aZipSlipNameIsRefused() throws IOException {
        assertRefusedLeavingNothing(
                zip(Entry.file("README.md", "hi"), Entry.file("../../../outside/evil.txt", "x")),
                422,
                "would be written outside the record's folder");
    }

    @Test
    void aZipSlipNameHiddenInTheMiddleIsRefused() throws IOException {
        assertRefusedLeavingNothing(
                zip(Entry.file("data/../../../../outside/evil.txt", "x")),
                422,
                "would be written outside the record's folder");
    }

    @Test
    void anAbsoluteNameIsRefused() throws IOException {
        assertRefusedLeavingNothing(
                tarGz(Entry.file(outside.resolve("evil.txt").toString(), "x")),
                422,
                "would be written outside the record's folder");
    }

    @Test
    void anAbsoluteNameIsRefusedInAZip() throws IOException {
        assertRefusedLeavingNothing(
                zip(Entry.file(outside.resolve("evil.txt").toString(), "x")),
                422,
                "would be written outside the record's folder");
    }

    @Test
    void aBackslashNameIsRefused() throws IOException {
        assertRefusedLeavingNothing(
                zip(Entry.file("..\\..\\outside\\evil.txt", "x")), 422, "would be written outside the record's folder");
    }

    @Test
    void aSymbolicLinkOutOfTheFolderIsRefusedInATar() throws IOException {
        assertRefusedLeavingNothing(
                tarGz(Entry.file("README.md", "hi"), Entry.link("evil-link", "../../../outside")),
                422,
                "may lead outside the record's folder");
    }

    @Test
    void anAbsoluteSymbolicLinkIsRefused() throws IOException {
        assertRefusedLeavingNothing(
                tarGz(Entry.link("evil-passwd", "/etc/passwd")), 422, "may lead outside the record's folder");
    }

    @Test
    void aSymbolicLinkOutOfTheFolderIsRefusedInAZip() throws IOException {
        assertRefusedLeavingNothing(
                zip(Entry.link("evil-link", "../../outside")), 422, "may lead outside the record's folder");
    }

    @Test
    void aLinkThatClimbsBackAfterDescendingIsRefused() throws IOException {
        // "sub/../.." reads as one level up lexically, but sub may itself be a link: only leading ".." are provable
        assertRefusedLeavingNothing(
                tarGz(Entry.file("sub/x", "x"), Entry.link("evil-link", "sub/../../outside")),
                422,
                "may lead outside the record's folder");
    }

    @Test
    void aFileWrittenThroughALinkOfTheArchiveIsRefused() throws IOException {
        // the link itself stays inside, but nothing is ever written through a link
        assertRefusedLeavingNothing(
                tarGz(Entry.file("real/x", "x"), Entry.link("alias", "real"), Entry.file("alias/evil.txt", "x")),
                422,
                "lies inside a symbolic link of the archive");
    }

    @Test
    void aLinkThatLeavesOnlyOnceTheTopFolderBecomesTheRootIsRefused() throws IOException {
        // inside top/, "../x" stays within the archive; unpacked into the root (top/ dropped) it leaves the folder
        assertRefusedLeavingNothing(
                tarGz(Entry.file("top/README.md", "hi"), Entry.link("top/evil-link", "../outside")),
                422,
                "leads outside the record's folder once unpacked");
    }

    @Test
    void aZipBombStopsAtTheLimit() throws IOException {
        byte[] zeros = new byte[8 << 20]; // 8 MiB of zeros compress to a few KB
        Path bomb = zip(new Entry("zeros-1.bin", zeros, null, 0644), new Entry("zeros-2.bin", zeros, null, 0644));
        assertThat(Files.size(bomb)).isLessThan(100_000);
        assertRefusedLeavingNothing(bomb, 413, "ferry.repo.max-checkout-size");
    }

    @Test
    void aTarGzBombStopsAtTheLimit() throws IOException {
        Path bomb = tarGz(new Entry("zeros.bin", new byte[8 << 20], null, 0644));
        assertThat(Files.size(bomb)).isLessThan(100_000);
        assertRefusedLeavingNothing(bomb, 413, "ferry.repo.max-checkout-size");
    }

    @Test
    void tooManyFilesAreRefused() throws IOException {
        Entry[] many = new Entry[150];
        for (int i = 0; i < many.length; i++) {
            many[i] = Entry.file("f" + i + ".txt", "x");
        }
        assertRefusedLeavingNothing(zip(many), 413, "ferry.repo.max-checkout-files");
    }

    @Test
    void aFileThatIsNoArchiveIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.txt"), "just text");
        assertRefusedLeavingNothing(file, 422, "is not a zip or tar archive");
    }

    @Test
    void aTruncatedArchiveIsRefused() throws IOException {
        Path good = tarGz(Entry.file("README.md", "hello ".repeat(10_000)));
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = Files.write(dir.resolve("cut.tar.gz"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertRefusedLeavingNothing(truncated, 422, "could not be unpacked");
    }

    @Test
    void aSingleTopLevelFolderIsUnpackedIntoTheRootWithItsInsideLinksAndModes() throws IOException {
        Path archive = tarGz(
                Entry.file("project-1.0/requirements.txt", "numpy\n"),
                new Entry("project-1.0/postBuild", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), null, 0755),
                Entry.file("project-1.0/data/table.csv", "a,b\n"),
                Entry.link("project-1.0/notebooks/table.csv", "../data/table.csv"));
        unpacker().unpack(archive, target, "record.tar.gz");

        assertThat(Files.readString(target.resolve("requirements.txt"))).isEqualTo("numpy\n");
        assertThat(Files.isExecutable(target.resolve("postBuild"))).isTrue();
        assertThat(Files.isSymbolicLink(target.resolve("notebooks/table.csv"))).isTrue();
        assertThat(Files.readString(target.resolve("notebooks/table.csv"))).isEqualTo("a,b\n");
        try (var left = Files.list(target.getParent())) {
            assertThat(left.toList()).containsExactly(target);
        }
    }

    @Test
    void aZipWithSeveralTopLevelEntriesKeepsThemAsTheyAre() throws IOException {
        unpacker()
                .unpack(
                        zip(Entry.file("README.md", "hi"), Entry.file("code/run.py", "print(1)")),
                        target,
                        "record.zip");
        try (var left = Files.list(target)) {
            assertThat(left.map(p -> p.getFileName().toString()).toList())
                    .containsExactlyInAnyOrder("README.md", "code");
        }
        assertThat(Files.isRegularFile(target.resolve("code/run.py"), LinkOption.NOFOLLOW_LINKS))
                .isTrue();
    }

    @Test
    void theEntryNamesAreCheckedOneByOne() {
        Path root = Path.of("/srv/x");
        for (String bad : List.of("../a", "a/../../b", "/abs", "C:/win", "a\\b", "a/\u0001b", "..")) {
            assertThatThrownBy(() -> ArchiveUnpacker.safePath(root, bad, "r.zip"))
                    .as(bad)
                    .isInstanceOf(RepoException.class);
        }
        assertThat(ArchiveUnpacker.safePath(root, "./a//b/", "r.zip")).isEqualTo(root.resolve("a/b"));
        assertThat(ArchiveUnpacker.safePath(root, "./", "r.zip")).isNull();
    }
}
