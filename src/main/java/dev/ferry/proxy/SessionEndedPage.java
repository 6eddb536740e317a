package dev.ferry.proxy;

import java.util.Locale;
import java.util.Map;

import org.thymeleaf.context.Context;
import org.thymeleaf.spring6.SpringTemplateEngine;
import org.thymeleaf.templatemode.TemplateMode;
import org.thymeleaf.templateresolver.ClassLoaderTemplateResolver;

/**
 * The page a browser gets at the address of a session that is not there (ended, or never was): the template
 * {@code templates/proxy/session-ended.html}. Its own engine, because the relay answers outside Spring MVC; links point
 * to the portal's public URL, as the page may be served on a session's own host.
 */
final class SessionEndedPage {

    private final SpringTemplateEngine engine = new SpringTemplateEngine();
    private final String portal;

    /** {@code portal}: the portal's public URL without a trailing slash, or "" for links relative to this host. */
    SessionEndedPage(String portal) {
        this.portal = portal;
        ClassLoaderTemplateResolver templates = new ClassLoaderTemplateResolver(SessionEndedPage.class.getClassLoader());
        templates.setPrefix("templates/");
        templates.setSuffix(".html");
        templates.setTemplateMode(TemplateMode.HTML);
        templates.setCharacterEncoding("UTF-8");
        engine.setTemplateResolver(templates);
    }

    /** The page; {@code relaunch} is the portal path that launches the same repository again, or null. */
    String render(String title, String reason, String relaunch) {
        return engine.process("proxy/session-ended", new Context(Locale.ENGLISH,
                Map.of("title", title, "reason", reason, "portal", portal, "relaunch", relaunch == null ? "" : relaunch)));
    }
}
