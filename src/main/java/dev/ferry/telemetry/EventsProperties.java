package dev.ferry.telemetry;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Launch events ({@code ferry.events.*}).
 *
 * @param launchFile a file each successful launch is appended to as one JSON line (BinderHub's launch event schema);
 *                   empty: the events go to the log category {@code ferry.events.launch}
 */
@ConfigurationProperties("ferry.events")
public record EventsProperties(@DefaultValue("") String launchFile) {}
