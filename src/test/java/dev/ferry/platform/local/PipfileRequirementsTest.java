package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ferry.build.BuildFailedException;

/** A Pipfile without a lock read as pip requirements, and hostile values refused before pip sees them. */
class PipfileRequirementsTest {

    @TempDir
    Path repo;

    private String read(String pipfile) throws IOException {
        Path file = repo.resolve("binder").resolve("Pipfile");
        Files.createDirectories(file.getParent());
        Files.writeString(file, pipfile);
        return PipfileRequirements.read(file, repo, "binder/Pipfile");
    }

    @Test
    void packagesAndDevPackagesBecomeRequirementLines() throws IOException {
        String lines = read("""
                [[source]]
                url = "https://pypi.org/simple"
                name = "pypi"

                [packages]
                requests = "*"
                numpy = "==1.26.4"
                pandas = ">= 2.0, <3"
                rich = {version = ">=13", extras = ["jupyter"]}
                pywin32 = {version = "*", sys_platform = "== 'win32'"}
                colorama = {version = "*", markers = "os_name == 'nt'"}
                mypkg = {path = "..", editable = true}
                tool = {git = "https://example.org/tool.git", ref = "v1.2"}

                [dev-packages]
                pytest = "*"

                [requires]
                python_version = "3.11"
                """);
        assertThat(lines.split("\n"))
                .containsExactly(
                        "requests",
                        "numpy==1.26.4",
                        "pandas>=2.0,<3",
                        "rich[jupyter]>=13",
                        "pywin32 ; (sys_platform == 'win32')",
                        "colorama ; (os_name == 'nt')",
                        "-e " + repo.toAbsolutePath().normalize(),
                        "git+https://example.org/tool.git@v1.2#egg=tool",
                        "pytest");
    }

    @Test
    void anEmptyPipfileIsNothingToInstall() throws IOException {
        assertThat(read("[packages]\n").strip()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "[packages]\nrequests = \"*\\n--index-url http://evil\"\n",
                "[packages]\nrequests = \"-e /etc\"\n",
                "[packages]\n\"--extra-index-url=http://evil\" = \"*\"\n",
                "[packages]\nx = {path = \"../../..\"}\n",
                "[packages]\nx = {git = \"https://a b\"}\n",
                "[packages]\nx = {git = \"https://example.org/x.git\", ref = \"v1 --pre\"}\n",
                "[packages]\nx = {version = \"*\", markers = \"os_name == 'nt'\\n-r /etc/passwd\"}\n",
                "[packages]\nx = {version = \"*\", extras = [\"a]\\n-r /etc/passwd\"]}\n",
                "[packages]\nx = 3\n",
                "[packages\n"
            })
    void hostileOrBrokenEntriesAreRefusedWithASentence(String pipfile) {
        assertThatThrownBy(() -> read(pipfile))
                .isInstanceOf(BuildFailedException.class)
                .hasMessageStartingWith("binder/Pipfile")
                .hasMessageNotContaining("\n");
    }
}
