package dev.ferry.launch;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Starting sessions ({@code ferry.launch.*}).
 *
 * @param timeout a notebook server that does not answer within this time after it was started fails the launch
 */
@ConfigurationProperties("ferry.launch")
public record LaunchProperties(@DefaultValue("120s") Duration timeout) {}
