package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.TreeFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RepoCheckout on commits written object by object: what it keeps of git's checkout, and the trees it refuses. */
class RepoCheckoutTest {

    @TempDir
    Path dir;

    private static ObjectId blob(ObjectInserter inserter, String text) throws Exception {
        return inserter.insert(Constants.OBJ_BLOB, text.getBytes(StandardCharsets.UTF_8));
    }

    private static String commit(Git git, ObjectInserter inserter, ObjectId tree) throws Exception {
        CommitBuilder commit = new CommitBuilder();
        PersonIdent who = new PersonIdent("Test", "test@example.org");
        commit.setTreeId(tree);
        commit.setAuthor(who);
        commit.setCommitter(who);
        commit.setMessage("raw");
        ObjectId id = inserter.insert(commit);
        inserter.flush();
        return id.name();
    }

    @Test
    void writesFilesExecutableBitsLinksAndFoldersWithACleanIndex() throws Exception {
        try (Git git = Git.init()
                        .setDirectory(dir.toFile())
                        .setInitialBranch("main")
                        .call();
                ObjectInserter inserter = git.getRepository().newObjectInserter()) {
            TreeFormatter sub = new TreeFormatter();
            sub.append("postBuild", FileMode.EXECUTABLE_FILE, blob(inserter, "#!/bin/sh\necho hi\n"));
            TreeFormatter root = new TreeFormatter();
            root.append("README.md", FileMode.REGULAR_FILE, blob(inserter, "# hi\n"));
            root.append("binder", FileMode.TREE, inserter.insert(sub));
            root.append("link", FileMode.SYMLINK, blob(inserter, "README.md"));
            String commit = commit(git, inserter, inserter.insert(root));

            new RepoCheckout(1 << 20, 100).checkout(git.getRepository(), commit);

            assertThat(dir.resolve("README.md")).hasContent("# hi");
            assertThat(Files.isExecutable(dir.resolve("binder/postBuild"))).isTrue();
            assertThat(Files.readSymbolicLink(dir.resolve("link"))).isEqualTo(Path.of("README.md"));
            assertThat(git.getRepository().resolve("HEAD").name()).isEqualTo(commit);
            assertThat(git.status().call().isClean())
                    .as("git status in a session")
                    .isTrue();
        }
    }

    @Test
    void foldersNestedDeeperThanGitChecksOutAreAMalformedTree() throws Exception {
        try (Git git = Git.init()
                        .setDirectory(dir.toFile())
                        .setInitialBranch("main")
                        .call();
                ObjectInserter inserter = git.getRepository().newObjectInserter()) {
            TreeFormatter leaf = new TreeFormatter();
            leaf.append("f", FileMode.REGULAR_FILE, blob(inserter, "deep"));
            ObjectId tree = inserter.insert(leaf);
            for (int i = 0; i < RepoCheckout.MAX_DEPTH + 5; i++) {
                TreeFormatter parent = new TreeFormatter();
                parent.append("d", FileMode.TREE, tree);
                tree = inserter.insert(parent);
            }
            String commit = commit(git, inserter, tree);

            assertThatThrownBy(() -> new RepoCheckout(0, 0).checkout(git.getRepository(), commit))
                    .isInstanceOf(RepoException.class)
                    .hasMessageStartingWith("The repository's commit holds a malformed tree")
                    .satisfies(e -> assertThat(((RepoException) e).status()).isEqualTo(422));
            try (var left = Files.list(dir)) {
                assertThat(left.map(p -> p.getFileName().toString())).containsExactly(".git");
            }
        }
    }
}
