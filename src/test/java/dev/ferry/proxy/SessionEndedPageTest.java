package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The page at an ended session's address, rendered from its template: the reason is shown as text (a repository's
 * name in it cannot become markup), links lead to the portal's public URL, and the relaunch button is there only when
 * the session's repository is known.
 */
class SessionEndedPageTest {

    @Test
    void theReasonIsTextAndTheLinksLeadToThePortal() {
        String html = new SessionEndedPage("https://ferry.example")
                .render("This session has ended", "It ended because <script>alert(1)</script> & more",
                        "/v2/gh/octo/x/HEAD?urlpath=lab");

        assertThat(html).startsWith("<!doctype html>").contains("<title>This session has ended · Ferry</title>")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more").doesNotContain("<script>")
                .contains("id=\"relaunch\" href=\"https://ferry.example/v2/gh/octo/x/HEAD?urlpath=lab\"")
                .contains("href=\"https://ferry.example/\">Launch another repository</a>")
                .contains("id=\"session-ended\"");
    }

    @Test
    void withoutARepositoryThereIsNoRelaunchButtonAndLinksStayOnThisHost() {
        String html = new SessionEndedPage("").render("There is no session here", "Sessions end when left idle.", null);

        assertThat(html).doesNotContain("relaunch").contains("href=\"/\">Launch another repository</a>")
                .contains("<h1>There is no session here</h1>");
    }
}
