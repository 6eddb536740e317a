package dev.ferry;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

import dev.ferry.buildpack.BuildpackCommands;
import dev.ferry.platform.kubernetes.CheckClusterCommand;
import dev.ferry.platform.kubernetes.ManifestsCommand;

/**
 * Ferry: serves the portal, or — with {@code detect}, {@code dockerfile} or {@code prepare} as the first argument —
 * runs that command and exits (the same jar is the kubernetes build Job's prepare step); {@code hash-password} prints
 * a bcrypt hash for {@code ferry.admin.password}; {@code manifests} prints the Pod and Job the kubernetes platform would
 * create, {@code check-cluster} asks the cluster whether it will accept them (docs/kubernetes.md).
 */
@SpringBootApplication
public class FerryApplication {

    public static void main(String[] args) throws java.io.IOException {
        OutOfMemoryExit.install();
        if (args.length > 0 && args[0].equals(dev.ferry.web.HashPasswordCommand.NAME)) {
            System.exit(dev.ferry.web.HashPasswordCommand.run(System.out, System.err));
        }
        if (args.length > 0 && args[0].equals(ManifestsCommand.NAME)) {
            System.exit(ManifestsCommand.run(args, System.out, System.err));
        }
        if (args.length > 0 && args[0].equals(CheckClusterCommand.NAME)) {
            System.exit(CheckClusterCommand.run(args, System.out, System.err));
        }
        if (args.length > 0 && BuildpackCommands.COMMANDS.contains(args[0])) {
            System.exit(BuildpackCommands.run(args, System.out, System.err));
        }
        SpringApplication.run(FerryApplication.class, args);
    }
}
