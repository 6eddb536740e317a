package dev.ferry;

import java.io.IOException;
import java.io.PrintStream;

import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

import ch.qos.logback.classic.Level;

import dev.ferry.buildpack.BuildpackCommands;
import dev.ferry.platform.kubernetes.CheckClusterCommand;
import dev.ferry.platform.kubernetes.ManifestsCommand;
import dev.ferry.web.HashPasswordCommand;

/**
 * Ferry: serves the portal, or — with {@code detect}, {@code dockerfile} or {@code prepare} as the first argument —
 * runs that command and exits (the same jar is the kubernetes build Job's prepare step); {@code hash-password} prints
 * a bcrypt hash for {@code ferry.admin.password}; {@code manifests} prints the Pod and Job the kubernetes platform would
 * create, {@code check-cluster} asks the cluster whether it will accept them (docs/kubernetes.md).
 */
@SpringBootApplication
public class FerryApplication {

    public static void main(String[] args) throws IOException {
        OutOfMemoryExit.install();
        if (args.length > 0 && args[0].equals(HashPasswordCommand.NAME)) {
            System.exit(HashPasswordCommand.run(System.out, System.err));
        }
        if (args.length > 0 && (args[0].equals(ManifestsCommand.NAME) || args[0].equals(CheckClusterCommand.NAME))) {
            // standard output carries only the command's JSON or table: whatever else prints (a log level an operator
            // raised in the settings) goes to standard error
            PrintStream out = System.out;
            System.setOut(System.err);
            // Logback's default is DEBUG, and Spring does not set it up for a command; a setting Spring cannot bind is
            // said by the command in one sentence, not by Spring's failure report
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                    .setLevel(Level.WARN);
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.springframework")).setLevel(Level.OFF);
            System.exit(
                    args[0].equals(ManifestsCommand.NAME)
                            ? ManifestsCommand.run(args, out, System.err)
                            : CheckClusterCommand.run(args, out, System.err));
        }
        if (args.length > 0 && BuildpackCommands.COMMANDS.contains(args[0])) {
            System.exit(BuildpackCommands.run(args, System.out, System.err));
        }
        SpringApplication.run(FerryApplication.class, args);
    }
}
