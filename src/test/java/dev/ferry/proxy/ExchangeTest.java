package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * {@link Exchange}: what a visitor's request says about its answer, and when a request whose session's server failed
 * may go to the portal once more (RFC 9110 9.2.2).
 */
class ExchangeTest {

    private static final Route SESSION = new Route("abc", "127.0.0.1", 8888);

    private static Exchange exchange(HttpVersion version, HttpMethod method, Route route) {
        return new Exchange(new DefaultHttpRequest(version, method, "/user/abc/"), false, route);
    }

    @Test
    void anHttp10RequestWithoutKeepAliveIsAnsweredAndClosed() {
        Exchange x = exchange(HttpVersion.HTTP_1_0, HttpMethod.GET, SESSION);

        assertThat(x.visitorHttp10).isTrue();
        assertThat(x.visitorKeepAlive).isFalse();
        assertThat(x.headRequest).isFalse();
    }

    @Test
    void aHeadRequestIsKnownAsOne() {
        Exchange x = exchange(HttpVersion.HTTP_1_1, HttpMethod.HEAD, SESSION);

        assertThat(x.headRequest).isTrue();
        assertThat(x.visitorKeepAlive).isTrue();
    }

    @Test
    void aRequestThatNeverReachedItsServerGoesToThePortalWhateverItsMethod() {
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.POST, SESSION).mayReplay(false, false))
                .isTrue();
    }

    @Test
    void onlyARepeatableRequestGoesAgainWhenAKeptConnectionClosedWithoutAnswering() {
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, SESSION).mayReplay(true, true))
                .isTrue();
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.POST, SESSION).mayReplay(true, true))
                .isFalse();
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, SESSION).mayReplay(true, false))
                .isFalse();
    }

    @Test
    void aRequestIsNotReplayedOnceItsServerAnsweredItsBodyWentOrItTimedOut() {
        Exchange answered = exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, SESSION);
        answered.received = true;
        Exchange withBody = exchange(HttpVersion.HTTP_1_1, HttpMethod.PUT, SESSION);
        withBody.bodyWritten = true;
        Exchange timedOut = exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, SESSION);
        timedOut.timedOut = true;

        assertThat(answered.mayReplay(true, true)).isFalse();
        assertThat(withBody.mayReplay(false, false)).isFalse();
        assertThat(timedOut.mayReplay(true, true)).isFalse();
    }

    @Test
    void aRequestIsSentAgainOnceAtMost() {
        Exchange replayed = exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, SESSION);
        replayed.replayed = true;
        Exchange toPortalAgain = exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, null);
        toPortalAgain.replayed = true;

        assertThat(replayed.mayReplay(false, false)).isFalse();
        assertThat(toPortalAgain.mayReplay(true, true)).isFalse();
    }

    /** Tomcat closes a kept connection at its keep-alive timeout a moment before the door would: a GET meeting it goes again. */
    @Test
    void aPortalRequestMeetingAKeptConnectionThePortalClosedGoesAgainUnderTheSameRule() {
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, null).mayReplay(true, true))
                .isTrue();
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.POST, null).mayReplay(true, true))
                .isFalse();
    }
}
