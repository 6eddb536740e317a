package dev.ferry.platform.local;

import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Two sessions launched once for the whole class, for tests of what one session may reach of the other: A's home
 * holds {@code a-marker.txt}, B's {@code b-marker.txt}, so a listing shows whose it is.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TwoSessionsTestSupport extends LocalPlatformTestSupport {

    protected Map<String, Object> readyA;
    protected String a;
    protected String aToken;
    protected String b;
    protected String bToken;

    /** The start of the two repositories' names, apart from other classes' (the git server is shared). */
    abstract String repoPrefix();

    @BeforeAll
    void launchTwoSessions() throws Exception {
        readyA = ready(repoPrefix() + "-a", files("a-marker.txt", "A\n"));
        Map<String, Object> readyB = ready(repoPrefix() + "-b", files("b-marker.txt", "B\n"));
        a = sessionId(readyA);
        aToken = (String) readyA.get("token");
        b = sessionId(readyB);
        bToken = (String) readyB.get("token");
    }

    @AfterAll
    void stopSessions() {
        stopAllSessions();
    }
}
