package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ferry.repo.ArchiveRecord.ArchiveFile;

/**
 * The JSON a kubernetes build Job's prepare step gets (FERRY_ARCHIVE_FILES) says which files to fetch and whether a
 * single archive is unpacked, and nothing about the record's title, authors or links.
 */
class ArchiveRecordTest {

    private static final String KEY = "0123456789abcdef0123456789abcdef01234567";

    @Test
    void theFetchJsonGivesThePrepareStepTheSameFilesAndUnpacking() {
        List<ArchiveFile> files = List.of(
                new ArchiveFile("data/a.csv", "https://zenodo.example/api/files/1/a.csv", 1234, "md5:0cc175b9c0f1b6a8"),
                new ArchiveFile("code.zip", "https://zenodo.example/api/files/1/code.zip", -1, ""));
        ArchiveRecord record = new ArchiveRecord(
                "17",
                "zenodo/17",
                "https://zenodo.example/records/17",
                "https://zenodo.example/records/17",
                "Tides",
                List.of("A. Author"),
                files,
                true,
                KEY);

        ArchiveRecord fetched = ArchiveRecord.fromFetchJson(record.fetchJson(), KEY);

        assertThat(fetched.files()).isEqualTo(files);
        assertThat(fetched.unpackSingle()).isTrue();
        assertThat(fetched.contentKey()).isEqualTo(KEY);
        assertThat(fetched.title()).isEmpty();
        assertThat(record.fetchJson()).doesNotContain("Tides", "A. Author", "records/17");
    }

    @Test
    void theFetchJsonOfTheFieldsItHasAlwaysHadIsRead() {
        // what a portal of the same Ferry wrote before the JSON became a record: the names are the Job's contract
        String text =
                "{\"unpackSingle\":false,\"files\":[{\"size\":5,\"checksum\":\"\",\"url\":\"https://x.example/f\","
                        + "\"name\":\"f.txt\"}]}";

        ArchiveRecord fetched = ArchiveRecord.fromFetchJson(text, KEY);

        assertThat(fetched.files()).containsExactly(new ArchiveFile("f.txt", "https://x.example/f", 5, ""));
        assertThat(fetched.unpackSingle()).isFalse();
    }
}
