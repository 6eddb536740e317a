package dev.ferry.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.EventStream;
import dev.ferry.testing.JupyterClient;
import dev.ferry.testing.Parts;
import dev.ferry.testing.RawHttp;

/**
 * Repository code tries, from its build and from its session, what a hostile repository would on the local platform:
 * leave daemons running, plant code in another repository's environment, read another session's token and kill its
 * server, and switch its own server's token off with Jupyter configuration. Every attempt runs for real (bubblewrap,
 * Jupyter, git over HTTP, launches through the portal) and must come to nothing.
 */
class LocalSandboxTest extends LocalPlatformTestSupport {

    @BeforeAll
    static void requireBubblewrap() {
        Parts.requireBubblewrap();
    }

    @AfterEach
    void cleanUp() {
        stopAllSessions();
        ProcessTree.stopAll(ProcessTree.mentioning("ferry-daemon-"), 1000); // what a failing run left behind
    }

    /**
     * A shell loop that leaves its parent's session and folder (double fork, {@code setsid}, {@code cd /}), so that
     * nothing but a sandbox ties it to the step that started it; its first argument is a unique marker to find it by.
     */
    private static String daemon(String marker) {
        return "(cd / && setsid sh -c 'while true; do date > /tmp/" + marker + ".beat; sleep 1; done' " + marker
                + " </dev/null >/dev/null 2>&1 &)\n"
                + "while [ ! -e /tmp/" + marker + ".beat ]; do sleep 0.1; done\n"
                + "echo daemon " + marker + " is beating\n";
    }

    private static void assertGone(String marker) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(ProcessTree.mentioning(marker))
                        .as("processes named " + marker)
                        .isEmpty());
    }

    @Test
    void aDaemonStartedByPostBuildEndsWithTheBuild() throws Exception {
        String marker = "ferry-daemon-" + UUID.randomUUID();
        String repo = GIT.createRepo("daemon-build", files("postBuild", "#!/bin/sh\n" + daemon(marker)));

        EventStream.Result result = launch(repo, "main");

        assertThat(result.last().get("phase")).as(result.events().toString()).isEqualTo("ready");
        assertThat(log(result)).contains("daemon " + marker + " is beating");
        assertGone(marker);
    }

    @Test
    void aDaemonStartedByTheStartScriptEndsWithTheSession() throws Exception {
        String marker = "ferry-daemon-" + UUID.randomUUID();
        String repo = GIT.createRepo("daemon-start", files("start", "#!/bin/sh\n" + daemon(marker) + "exec \"$@\"\n"));

        Map<String, Object> ready = launch(repo, "main").last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        assertThat(ProcessTree.mentioning(marker))
                .as("the daemon runs while its session does")
                .isNotEmpty();

        sessions.stop(sessionId(ready), "the test ended.");
        assertGone(marker);
    }

    /**
     * A postBuild prints the host's password hashes. The sandbox's user is Ferry's user in disguise (when Ferry runs as
     * root it owns root's files), so what other users of the machine may not read must be out of its sight.
     */
    @Test
    void aPostBuildCannotReadTheHostsPasswordHashes() throws Exception {
        Path shadow = Path.of("/etc/shadow");
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.isReadable(shadow), "skipped: this test runs as a user who cannot read /etc/shadow either");
        List<String> hashes =
                Files.readAllLines(shadow).stream().filter(l -> !l.isBlank()).toList();
        String repo = GIT.createRepo(
                "reads-shadow", files("postBuild", "#!/bin/sh\ncat /etc/shadow /etc/gshadow 2>&1\necho cat done\n"));

        EventStream.Result result = launch(repo, "main");

        assertThat(result.last().get("phase")).as(result.events().toString()).isEqualTo("ready");
        String log = log(result);
        assertThat(log).contains("cat done");
        assertThat(hashes).isNotEmpty().noneMatch(log::contains);
    }

    /**
     * Repository A's postBuild walks up from its checkout to the folder of all environments and drops a {@code .pth}
     * file (Python runs its import lines at every start) into every environment it finds; B's next session would run
     * it and leave a file in its home.
     */
    @Test
    void aPostBuildCannotPlantCodeInAnotherRepositorysEnvironment() throws Exception {
        String victim = GIT.createRepo("pth-victim", files("README.md", "# B\n"));
        Map<String, Object> first = launch(victim, "main").last();
        assertThat(first.get("phase")).as(first.toString()).isEqualTo("ready");
        sessions.stop(sessionId(first), "the test ended.");

        String attacker = GIT.createRepo(
                "pth-attacker",
                files(
                        "postBuild",
                        String.join(
                                "\n",
                                "#!/bin/sh",
                                "for d in \"$PWD\"/../../*/venv/lib/python3*/site-packages; do",
                                "  echo \"import pathlib; pathlib.Path('planted-by-a.txt').write_text('A')\" > \"$d/zz_planted.pth\" "
                                        + "&& echo \"planted in $d\"",
                                "done",
                                "")));
        EventStream.Result built = launch(attacker, "main");
        assertThat(built.last().get("phase")).as(built.events().toString()).isEqualTo("ready");
        assertThat(log(built)).as("the attack ran").contains("planted in");

        try (var envs = Files.list(workDir().resolve("envs"))) {
            List<Path> victims = envs.filter(p -> p.getFileName().toString().contains("pth-victim"))
                    .toList();
            assertThat(victims).hasSize(1);
            try (var planted = Files.find(
                    victims.get(0), 8, (p, a) -> p.getFileName().toString().equals("zz_planted.pth"))) {
                assertThat(planted.toList())
                        .as("files planted in B's environment")
                        .isEmpty();
            }
        }
        Map<String, Object> again = launch(victim, "main").last();
        assertThat(again.get("phase")).as(again.toString()).isEqualTo("ready");
        JupyterClient b = new JupyterClient((String) again.get("url"), (String) again.get("token"));
        assertThat(b.get("api/contents").body()).contains("README.md").doesNotContain("planted-by-a.txt");
    }

    /**
     * From a kernel of session A: collect every Jupyter token readable in other processes' environments and in the
     * sessions' runtime folders, and SIGKILL every process that has another token. Session B must keep answering.
     */
    @Test
    void aSessionCannotReadAnotherSessionsTokenNorKillItsServer() throws Exception {
        Map<String, Object> readyB = launch(GIT.createRepo("victim-b", files("b.txt", "B\n")), "main")
                .last();
        Map<String, Object> readyA = launch(GIT.createRepo("attacker-a", files("a.txt", "A\n")), "main")
                .last();
        assertThat(readyA.get("phase")).as(readyA.toString()).isEqualTo("ready");
        assertThat(readyB.get("phase")).as(readyB.toString()).isEqualTo("ready");
        String bToken = (String) readyB.get("token");
        JupyterClient a = new JupyterClient((String) readyA.get("url"), (String) readyA.get("token"));

        String printed = a.execute(
                a.startKernel(),
                String.join(
                        "\n",
                        "import glob, json, os, signal",
                        "mine = os.environ.get('JUPYTER_TOKEN')",
                        "found, killed = set(), []",
                        "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:",
                        "    try:",
                        "        env = open('/proc/%s/environ' % pid, 'rb').read().split(b'\\0')",
                        "    except OSError:",
                        "        continue",
                        "    tokens = [e[14:].decode() for e in env if e.startswith(b'JUPYTER_TOKEN=')]",
                        "    if tokens and tokens[0] != mine:",
                        "        found.add(tokens[0])",
                        "        try:",
                        "            os.kill(int(pid), signal.SIGKILL); killed.append(pid)",
                        "        except OSError:",
                        "            pass",
                        "sessions = os.path.dirname(os.path.dirname(os.getcwd()))",
                        "for f in glob.glob(sessions + '/*/runtime/*.json'):",
                        "    try:",
                        "        found.add(json.load(open(f)).get('token', ''))",
                        "    except (OSError, ValueError):",
                        "        pass",
                        "found.discard(mine)",
                        "print('found', sorted(found), 'killed', killed)"));

        assertThat(printed).startsWith("found").doesNotContain(bToken);
        Thread.sleep(1000); // a killed server would be gone by now
        RawHttp.Response b = RawHttp.get(
                port, "/user/" + sessionId(readyB) + "/api/contents", Map.of("Authorization", "token " + bToken));
        assertThat(b.status()).as("B still answers").isEqualTo(200);
        assertThat(b.body()).contains("b.txt");
    }

    /**
     * What a postBuild enables "for the user" (as many Binder repositories do) still reaches its sessions, although they
     * no longer read the repository's {@code ~/.jupyter}: build steps keep such settings in the environment.
     */
    @Test
    void aPostBuildsUserLevelJupyterSettingsStillReachItsSessions() throws Exception {
        String repo = GIT.createRepo(
                "user-settings",
                files(
                        "postBuild",
                        "#!/bin/sh\njupyter nbextension enable --user --section=notebook ferry-test/main 2>&1 | tail -1\n"));

        Map<String, Object> ready = launch(repo, "main").last();

        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        JupyterClient jupyter = new JupyterClient((String) ready.get("url"), (String) ready.get("token"));
        assertThat(jupyter.get("api/config/notebook").body()).contains("\"ferry-test/main\": true");
    }

    /**
     * Every place a repository could put Jupyter configuration that switches the token off: its own
     * {@code .jupyter} (the session's home is the repository), the user base {@code ~/.local/etc/jupyter}, and the
     * environment's {@code etc/jupyter} written by postBuild. The server must still ask for the token.
     */
    @Test
    void aRepositorysJupyterConfigurationCannotSwitchOffTheToken() throws Exception {
        String open = "c.{app}.token = ''\nc.{app}.password = ''\nc.{app}.disable_check_xsrf = True\n";
        String json =
                "{\"NotebookApp\": {\"token\": \"\", \"password\": \"\"}, \"ServerApp\": {\"token\": \"\", \"password\": \"\"}}";
        String repo = GIT.createRepo(
                "open-config",
                files(
                        ".jupyter/jupyter_notebook_config.py",
                        open.replace("{app}", "NotebookApp"),
                        ".jupyter/jupyter_server_config.py",
                        open.replace("{app}", "ServerApp"),
                        ".local/etc/jupyter/jupyter_notebook_config.json",
                        json,
                        ".local/etc/jupyter/jupyter_server_config.json",
                        json,
                        "postBuild",
                        "#!/bin/sh\nmkdir -p \"$VIRTUAL_ENV/etc/jupyter\"\n"
                                + "echo '" + json + "' > \"$VIRTUAL_ENV/etc/jupyter/jupyter_notebook_config.json\"\n"
                                + "echo '" + json + "' > \"$VIRTUAL_ENV/etc/jupyter/jupyter_server_config.json\"\n"));

        Map<String, Object> ready = launch(repo, "main").last();
        assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        String id = sessionId(ready);

        RawHttp.Response api = RawHttp.get(port, "/user/" + id + "/api/contents", Map.of());
        assertThat(api.status()).as("the contents API without the token").isEqualTo(403);
        assertThat(api.body()).doesNotContain("postBuild");
        RawHttp.Response page = RawHttp.get(port, "/user/" + id + "/tree", Map.of("Accept", "text/html"));
        assertThat(page.status()).isEqualTo(302);
        assertThat(page.header("Location")).startsWith("/user/" + id + "/login");
        RawHttp.Response withToken = RawHttp.get(
                port, "/user/" + id + "/api/contents", Map.of("Authorization", "token " + ready.get("token")));
        assertThat(withToken.status()).isEqualTo(200);
    }

    /**
     * A postBuild puts a link where Ferry writes the environment's record, leading to a file of Ferry's user outside
     * the sandbox (here a canary; another repository's record, or Ferry's own files, in an attack). Ferry writes the
     * record after the build, outside the sandbox: it must not write through the link.
     */
    @Test
    void aLinkPlantedWhereFerryWritesTheEnvironmentsRecordIsNotFollowed() throws Exception {
        Path canary = Files.createTempFile("ferry-canary-", ".txt");
        try {
            Files.writeString(canary, "canary\n");
            String repo = GIT.createRepo(
                    "plants-link",
                    files(
                            "postBuild",
                            "#!/bin/sh\nrm -f ../ferry-env.properties\nln -s " + canary
                                    + " ../ferry-env.properties\n"));

            Map<String, Object> ready = launch(repo, "main").last();

            assertThat(Files.readString(canary)).as("the file the link led to").isEqualTo("canary\n");
            assertThat(ready.get("phase")).as(ready.toString()).isEqualTo("ready");
        } finally {
            Files.deleteIfExists(canary);
        }
    }
}
