package dev.ferry.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Wrapper;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.http.server.GitServlet;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.resolver.FileResolver;

/**
 * A real git server for tests: bare repositories served over smart HTTP by JGit's {@code GitServlet} on an embedded
 * Tomcat bound to 127.0.0.1. Repositories are made from a map of file name to content.
 */
public final class TestGitServer implements AutoCloseable {

    private final Path root;
    private final Tomcat tomcat;
    private final int port;

    public TestGitServer() throws IOException, LifecycleException {
        root = TempDirs.deleteOnExit(Files.createTempDirectory("ferry-git-server"));
        tomcat = new Tomcat();
        tomcat.setBaseDir(root.resolve("tomcat").toString());
        tomcat.setHostname("127.0.0.1");
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        Context context = tomcat.addContext("", root.toString());
        GitServlet servlet = new GitServlet();
        servlet.setRepositoryResolver(new FileResolver<>(root.resolve("repos").toFile(), true));
        Wrapper wrapper = Tomcat.addServlet(context, "git", servlet);
        wrapper.setAsyncSupported(true);
        context.addServletMappingDecoded("/git/*", "git");
        Files.createDirectories(root.resolve("repos"));
        tomcat.start();
        port = tomcat.getConnector().getLocalPort();
    }

    /** The clone URL of a repository on this server (it need not exist). */
    public String url(String name) {
        return "http://127.0.0.1:" + port + "/git/" + name + ".git";
    }

    public int port() {
        return port;
    }

    /** The folder of every repository this server serves (a {@link GitDaemon} can serve the same ones). */
    public Path reposDir() {
        return root.resolve("repos");
    }

    /**
     * Creates a repository whose {@code main} is one commit of the tree {@code writeTree} inserts: for repositories
     * git's porcelain would not make (gigabytes of zeros, malformed trees). Returns its clone URL.
     */
    public String createRawRepo(String name, RawTree writeTree) throws Exception {
        Path bare = reposDir().resolve(name + ".git");
        try (Git git = Git.init()
                        .setBare(true)
                        .setInitialBranch("main")
                        .setDirectory(bare.toFile())
                        .call();
                org.eclipse.jgit.lib.ObjectInserter inserter =
                        git.getRepository().newObjectInserter()) {
            org.eclipse.jgit.lib.ObjectId tree = writeTree.write(inserter);
            org.eclipse.jgit.lib.CommitBuilder commit = new org.eclipse.jgit.lib.CommitBuilder();
            org.eclipse.jgit.lib.PersonIdent who = new org.eclipse.jgit.lib.PersonIdent("Test", "test@example.org");
            commit.setTreeId(tree);
            commit.setAuthor(who);
            commit.setCommitter(who);
            commit.setMessage("raw commit");
            org.eclipse.jgit.lib.ObjectId id = inserter.insert(commit);
            inserter.flush();
            org.eclipse.jgit.lib.RefUpdate update = git.getRepository().updateRef("refs/heads/main");
            update.setNewObjectId(id);
            update.forceUpdate();
        }
        return url(name);
    }

    /** Inserts a tree (and what it holds) and returns its id. */
    @FunctionalInterface
    public interface RawTree {
        org.eclipse.jgit.lib.ObjectId write(org.eclipse.jgit.lib.ObjectInserter inserter) throws Exception;
    }

    /** Creates a repository with one commit on {@code main} holding these files; returns its clone URL. */
    public String createRepo(String name, Map<String, String> files) throws Exception {
        Path bare = root.resolve("repos").resolve(name + ".git");
        try (Git git = Git.init()
                .setBare(true)
                .setInitialBranch("main")
                .setDirectory(bare.toFile())
                .call()) {
            // an empty bare repository
        }
        commit(name, "main", files, "initial commit");
        return url(name);
    }

    /** Adds a commit with these files (added or replaced) on the branch; returns the commit id. */
    public String commit(String name, String branch, Map<String, String> files, String message) throws Exception {
        Path work = Files.createTempDirectory(root, "work");
        try (Git git = Git.cloneRepository()
                .setURI(root.resolve("repos").resolve(name + ".git").toUri().toString())
                .setDirectory(work.toFile())
                .call()) {
            Repository repo = git.getRepository();
            if (repo.resolve("refs/remotes/origin/" + branch) != null) {
                git.checkout()
                        .setName(branch)
                        .setCreateBranch(repo.findRef(branch) == null)
                        .setStartPoint("origin/" + branch)
                        .call();
            } else if (repo.resolve("HEAD") != null) {
                git.checkout().setName(branch).setCreateBranch(true).call();
            }
            for (Map.Entry<String, String> f : files.entrySet()) {
                Path file = work.resolve(f.getKey());
                Files.createDirectories(file.getParent());
                Files.writeString(file, f.getValue(), StandardCharsets.UTF_8);
                if (f.getKey().endsWith("postBuild") || f.getKey().endsWith(".sh")) {
                    Files.setPosixFilePermissions(
                            file,
                            EnumSet.of(
                                    PosixFilePermission.OWNER_READ,
                                    PosixFilePermission.OWNER_WRITE,
                                    PosixFilePermission.OWNER_EXECUTE));
                }
            }
            git.add().addFilepattern(".").call();
            RevCommit commit = git.commit()
                    .setMessage(message)
                    .setAuthor("Test", "test@example.org")
                    .setCommitter("Test", "test@example.org")
                    .setSign(false)
                    .call();
            git.push().setRemote("origin").add("HEAD:refs/heads/" + branch).call();
            return commit.name();
        } finally {
            deleteTree(work);
        }
    }

    /** Adds an annotated tag pointing at the branch's head. */
    public void tag(String name, String tag, String branch) throws Exception {
        try (Git git = Git.open(root.resolve("repos").resolve(name + ".git").toFile())) {
            var walk = new org.eclipse.jgit.revwalk.RevWalk(git.getRepository());
            RevCommit head = walk.parseCommit(git.getRepository().resolve("refs/heads/" + branch));
            git.tag()
                    .setName(tag)
                    .setObjectId(head)
                    .setAnnotated(true)
                    .setMessage("tag " + tag)
                    .setTagger(new org.eclipse.jgit.lib.PersonIdent("Test", "test@example.org"))
                    .setSigned(false)
                    .call();
            walk.close();
        }
    }

    @Override
    public void close() throws Exception {
        tomcat.stop();
        tomcat.destroy();
        deleteTree(root);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
