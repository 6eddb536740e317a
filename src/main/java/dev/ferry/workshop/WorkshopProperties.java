package dev.ferry.workshop;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Workshop events ({@code ferry.workshop.*}).
 *
 * @param leadTime    how long before its start a workshop reserves its seats and fills its warm pool
 * @param endWarning  how long a workshop's sessions keep running after the instructor ends it (or its end time
 *                    passes), so that attendees can save their work
 * @param maxSeats    the most seats one workshop may reserve
 * @param keepEnded   how long an ended workshop is remembered (its address answers that it has ended); then it is
 *                    forgotten, and on Kubernetes its ConfigMap is deleted
 * @param seatsPerAddress the most seats (and places in line) of one workshop that attendees from one network address
 *                    may hold at once, counted by each portal replica (0: no bound), unless the workshop names its own
 *                    number; a classroom behind one NAT address needs it as high as its number of attendees
 * @param claimGrace  how long an attendee may take to open the session handed to them before it is stopped and its
 *                    seat given to the next attendee
 */
@ConfigurationProperties("ferry.workshop")
public record WorkshopProperties(
        @DefaultValue("15m") Duration leadTime,
        @DefaultValue("5m") Duration endWarning,
        @DefaultValue("500") int maxSeats,
        @DefaultValue("30d") Duration keepEnded,
        @DefaultValue("3") int seatsPerAddress,
        @DefaultValue("60s") Duration claimGrace) {}
