package dev.ferry;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

import dev.ferry.buildpack.BuildpackCommands;

/**
 * Ferry: serves the portal, or — with {@code detect}, {@code dockerfile} or {@code prepare} as the first argument —
 * runs that command and exits (the same jar is the kubernetes build Job's prepare step).
 */
@SpringBootApplication
public class FerryApplication {

    public static void main(String[] args) {
        OutOfMemoryExit.install();
        if (args.length > 0 && BuildpackCommands.COMMANDS.contains(args[0])) {
            System.exit(BuildpackCommands.run(args, System.out, System.err));
        }
        SpringApplication.run(FerryApplication.class, args);
    }
}
