package dev.ferry.capacity;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.ferry.WaitingLine;

/**
 * How many sessions may run, and how launches wait for a seat ({@code ferry.quota.*}, the line at
 * {@code ferry.quota.queue.*}).
 *
 * @param total        sessions at once on this installation (0: no limit)
 * @param perRepo      sessions at once of one repository, across all its refs (0: no limit); overridden per spec by
 *                     {@code ferry.repo.spec-config[].quota}
 * @param queue        the line launches wait in when a quota is full ({@code ferry.quota.queue.*})
 */
@ConfigurationProperties("ferry.quota")
public record QuotaProperties(
        @DefaultValue("100") int total,
        @DefaultValue("0") int perRepo,
        @DefaultValue Queue queue) {

    /**
     * The line launches wait in for a seat, and each workshop's line of attendees ({@code ferry.quota.queue.*}).
     *
     * @param maxLength  launches (or attendees of one workshop) that may wait at once; beyond, one more fails saying the
     *                   line is full
     * @param maxWait    how long a launch or attendee may wait for a seat before it fails saying when to come back
     * @param leaveAfter a waiting launch or attendee whose every page or client has been gone this long leaves the line
     */
    public record Queue(
            @DefaultValue("500") int maxLength,
            @DefaultValue("10m") Duration maxWait,
            @DefaultValue("15s") Duration leaveAfter) {

        /** The bounds of every line launches and attendees wait in: capacity's and each workshop's. */
        public WaitingLine.Limits limits() {
            return new WaitingLine.Limits(maxLength, maxWait, leaveAfter);
        }
    }
}
