package dev.ferry.platform.local;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import dev.ferry.build.BuildFailedException;

/**
 * How to run a notebook server from a built local environment, as the build recorded it in
 * {@code envs/<key>/ferry-env.properties} (written last: its presence marks a complete environment).
 *
 * @param python      the interpreter the server runs with (in the virtual or conda environment)
 * @param jupyterApp  which Jupyter application it can run: {@code lab}, {@code notebook7}, {@code notebook6}, {@code server}
 * @param start       the repository's {@code start} wrapper, relative to the repository root, if any
 * @param environment extra variables the server needs (R library, Julia depot and project)
 * @param hostPaths   folders of host programs outside the system folders that the server needs (a Python under
 *                    pyenv, R or Julia under /opt), seen read-only in its sandbox
 */
record LocalEnvironment(
        Path python,
        JupyterApp jupyterApp,
        Optional<String> start,
        Map<String, String> environment,
        List<Path> hostPaths) {

    void write(Path file, String commit) throws IOException {
        Properties p = new Properties();
        p.setProperty("python", python.toString());
        p.setProperty("jupyter.app", jupyterApp.toString());
        start.ifPresent(s -> p.setProperty("start", s));
        environment.forEach((k, v) -> p.setProperty("env." + k, v));
        for (int i = 0; i < hostPaths.size(); i++) {
            p.setProperty("host-path." + i, hostPaths.get(i).toString());
        }
        p.setProperty("commit", commit);
        StringWriter text = new StringWriter();
        p.store(text, "complete Ferry environment");
        // the environment's folder was writable to the build: the record is never written through a link planted there
        LocalLayout.writeInside(file.getParent(), file, text.toString());
    }

    static LocalEnvironment read(Path file) {
        Properties p = new Properties();
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new BuildFailedException(
                    500, "The environment for this commit is damaged; it will be rebuilt on the next launch.");
        }
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw new BuildFailedException(
                    500, "The environment for this commit is damaged; it will be rebuilt on the next launch.");
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : p.stringPropertyNames()) {
            if (name.startsWith("env.")) {
                env.put(name.substring(4), p.getProperty(name));
            }
        }
        List<Path> hostPaths = new ArrayList<>();
        for (int i = 0; p.getProperty("host-path." + i) != null; i++) {
            hostPaths.add(Path.of(p.getProperty("host-path." + i)));
        }
        return new LocalEnvironment(
                Path.of(p.getProperty("python")),
                JupyterApp.named(p.getProperty("jupyter.app", "")).orElse(JupyterApp.NOTEBOOK6),
                Optional.ofNullable(p.getProperty("start")),
                env,
                hostPaths);
    }
}
