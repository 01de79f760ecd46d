package io.tern.store.message;

import java.time.Duration;

/**
 * Whether, and when, an accepted single push to a routed device is checked for delivery: the accept
 * puts it in the redelivery due set ({@link RedeliveryQueue}) {@code delay} after its creation, and
 * marking it SENT takes it out, so only a message whose PUSH failed or was never made is looked at.
 *
 * @param delay  how long after acceptance a message not yet marked sent is due (must outlast the PUSH's reply timeout)
 * @param maxDue most entries in the due set; a message accepted beyond it is not checked and waits for its
 *               device's reconnect, as it would without checks
 */
public record DeliveryChecks(Duration delay, int maxDue) {
    /** No checks: the accept leaves the due set alone. */
    public static final DeliveryChecks OFF = new DeliveryChecks(Duration.ZERO, 0);

    public DeliveryChecks {
        if (delay.isNegative() || maxDue < 0) {
            throw new IllegalArgumentException("delay and maxDue must be >= 0");
        }
    }

    public boolean enabled() {
        return maxDue > 0 && !delay.isZero();
    }
}
