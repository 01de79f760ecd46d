package io.tern.store.registry;

/**
 * A broker's deliveries against its capacity: what the rate controller sums into the platform's downstream load.
 *
 * @param delivered          PUSH and broadcast frames written to devices since the broker started
 * @param perSecond          deliveries per second over the last second
 * @param capacityPerSecond  the broker's configured capacity ({@code broker.capacity}); 0 when not reported
 */
public record DeliveryStats(long delivered, double perSecond, int capacityPerSecond) {
    public static final DeliveryStats NONE = new DeliveryStats(0, 0, 0);
}
