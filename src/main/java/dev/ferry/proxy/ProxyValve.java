package dev.ferry.proxy;

import java.io.IOException;

import jakarta.servlet.ServletException;

import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;
import org.apache.coyote.ContinueResponseTiming;

/**
 * Hands proxied requests to the {@link ProxyServlet} from Tomcat's context pipeline, ahead of the servlet filter
 * chain, which proxied requests do not use (the portal's header filter leaves {@code /user/} paths alone, and Spring
 * Security only guards the operator's pages); on the hot path, building and walking that chain was a measurable share
 * of each request's CPU (bench/README.md). Only requests Tomcat has mapped to the proxy servlet and whose raw path is under {@code /user/}
 * take this way, so every other request, and every path trick whose decoded form lands elsewhere, goes through the
 * filters as before. Not installed with per-session origins, whose filter must see session paths too.
 */
final class ProxyValve extends ValveBase {

    private final ProxyServlet proxy;
    private final String servletName;

    ProxyValve(ProxyServlet proxy, String servletName) {
        super(true);
        this.proxy = proxy;
        this.servletName = servletName;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        Wrapper wrapper = request.getWrapper();
        if (wrapper == null || !servletName.equals(wrapper.getName())
                || !request.getRequestURI().startsWith(ProxyServlet.PREFIX, request.getContextPath().length())) {
            getNext().invoke(request, response);
            return;
        }
        // what Tomcat's context valve, skipped here, does for every request: answer "Expect: 100-continue"
        response.sendAcknowledgement(ContinueResponseTiming.IMMEDIATELY);
        try {
            proxy.service(request, response);
        } catch (ProxyServlet.UpstreamBroke e) {
            // The response is under way: end the connection so the visitor sees the body cut short (through the filter
            // chain, Tomcat would include the portal's error page into the body instead).
            response.getCoyoteResponse().action(ActionCode.CLOSE_NOW, e);
        }
    }
}
