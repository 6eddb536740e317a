package dev.ferry.platform.kubernetes;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.ferry.FerryProperties;
import dev.ferry.build.BuildProperties;

/**
 * {@code java -jar ferry.jar check-cluster [--push-config=<file>] [--ferry.… settings]}: runs the {@link ClusterCheck}
 * with the portal's credentials (in-cluster service account or kubeconfig, as the portal) and settings, and prints
 * what passed and what to fix. {@code --push-config}: a Docker config ({@code .dockerconfigjson}) with the push
 * credentials, which Ferry's own account cannot read from their Secret. Exit codes: 0 every check passed, 1 some
 * failed, 2 the settings cannot be used.
 */
public final class CheckClusterCommand {

    public static final String NAME = "check-cluster";
    private static final String PUSH_CONFIG = "--push-config=";

    private CheckClusterCommand() {}

    /** {@code args}: the command line, starting with {@value #NAME}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, List.of());
    }

    static int run(String[] args, PrintStream out, PrintStream err, List<KubernetesHttpCustomizer> customizers) {
        List<String> settingsArgs = new ArrayList<>();
        Path pushConfig = null;
        for (String arg : List.of(args).subList(1, args.length)) {
            if (arg.startsWith(PUSH_CONFIG)) {
                pushConfig = Path.of(arg.substring(PUSH_CONFIG.length()));
            } else {
                settingsArgs.add(arg);
            }
        }
        try (CommandSettings settings = CommandSettings.load(settingsArgs.toArray(String[]::new))) {
            KubernetesProperties kubernetes = settings.get(KubernetesProperties.class);
            RegistryProperties registry = settings.get(RegistryProperties.class);
            registry.normalizedPrefix();
            ClusterCheck.PushCredentials push =
                    pushCredentials(kubernetes.build().pushSecret(), pushConfig, registry);
            KubeApi api = KubeApi.create(kubernetes, customizers);
            BuildJobs jobs = settings.buildJobs();
            ClusterCheck check = new ClusterCheck(
                    api,
                    new SessionPods(kubernetes.session()),
                    jobs,
                    registry,
                    settings.get(FerryProperties.class).publicUrl(),
                    settings.get(BuildProperties.class).timeout());
            out.println("Checking namespace " + api.namespace + " at " + api.client.getBasePath() + " and the registry "
                    + registry.apiUrl() + " as Ferry would use them.");
            List<ClusterCheck.Row> rows = check.run(push);
            out.print(ClusterCheck.table(rows));
            return rows.stream().allMatch(ClusterCheck.Row::passed) ? 0 : 1;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println(e.getMessage());
            return 2;
        }
    }

    /**
     * The push credentials for the registry's host from a Docker config file ({@code auths.<host>.auth}, or
     * {@code username}/{@code password}); anonymous when the file names no credentials for it.
     */
    static ClusterCheck.PushCredentials pushCredentials(String secretName, Path config, RegistryProperties registry) {
        if (config == null || !Files.exists(config)) { // deploy/check mounts the Secret optionally: absent, no file
            return secretName.isBlank()
                    ? new ClusterCheck.PushCredentials("", "", "")
                    : ClusterCheck.PushCredentials.unread(secretName);
        }
        JsonNode auths;
        try {
            auths = JsonMapper.builder()
                    .build()
                    .readTree(Files.readString(config))
                    .path("auths");
        } catch (IOException | JacksonException e) {
            throw new IllegalArgumentException("The push config " + config + " cannot be read as a Docker config "
                    + "(.dockerconfigjson): " + e.getMessage());
        }
        String host = registry.normalizedPrefix()
                .substring(0, registry.normalizedPrefix().indexOf('/'));
        for (Map.Entry<String, JsonNode> entry : auths.properties()) {
            String key = entry.getKey().replaceFirst("^https?://", "").replaceFirst("/.*$", "");
            if (!key.equals(host) && !(host.equals("docker.io") && key.equals("index.docker.io"))) {
                continue;
            }
            JsonNode auth = entry.getValue();
            String user = auth.path("username").asString("");
            String password = auth.path("password").asString("");
            if (auth.hasNonNull("auth")) {
                String pair =
                        new String(Base64.getDecoder().decode(auth.get("auth").asString("")), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                user = colon < 0 ? pair : pair.substring(0, colon);
                password = colon < 0 ? "" : pair.substring(colon + 1);
            }
            return new ClusterCheck.PushCredentials(
                    secretName.isBlank() ? config.toString() : secretName, user, password);
        }
        return new ClusterCheck.PushCredentials(secretName.isBlank() ? config.toString() : secretName, "", "");
    }
}
