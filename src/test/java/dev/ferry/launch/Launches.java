package dev.ferry.launch;

import org.springframework.util.unit.DataSize;

import dev.ferry.build.BuildProperties;
import dev.ferry.repo.GitRepoProvider;

/** Launches for tests of what follows them (event streams): made and fed here, without a launch service. */
public final class Launches {

    private Launches() {}

    /** A launch {@code id} of a git repository that keeps up to {@code maxLines} events. */
    public static Launch of(String id, int maxLines) {
        return new Launch(
                id,
                new GitRepoProvider().parse("https%3A%2F%2Fexample.org%2Frepo/main"),
                new BuildProperties.Log(maxLines, DataSize.ofMegabytes(16), 4096));
    }

    /** Adds {@code event} as the launch's next one, as the launch service does. */
    public static void emit(Launch launch, LaunchEvent event) {
        launch.emit(event);
    }
}
