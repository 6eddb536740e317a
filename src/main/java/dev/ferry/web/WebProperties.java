package dev.ferry.web;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * What the operator says on the home page ({@code ferry.web.*}). Plain text: it is escaped wherever it is shown.
 *
 * @param banner    a line shown above every home page (maintenance notices, workshop announcements); empty: none
 * @param about     a paragraph about this installation (who runs it, for whom, where to ask for help); empty: none
 * @param resources what a session gets, shown with the limits ("2 CPU and 4 GB of memory per session")
 */
@ConfigurationProperties("ferry.web")
public record WebProperties(
        @DefaultValue("") String banner,
        @DefaultValue("") String about,
        @DefaultValue("") String resources) {}
