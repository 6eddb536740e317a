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
 */
@ConfigurationProperties("ferry.workshop")
public record WorkshopProperties(
        @DefaultValue("15m") Duration leadTime,
        @DefaultValue("5m") Duration endWarning,
        @DefaultValue("500") int maxSeats,
        @DefaultValue("30d") Duration keepEnded) {
}
