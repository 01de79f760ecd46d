package io.tern.store.region;

import java.util.Objects;

/**
 * One region in the policy.
 *
 * @param name     the region's name, as brokers report it ({@code broker.region})
 * @param state    where it stands in the failover cycle
 * @param servedBy the region whose brokers serve its devices: itself unless failing or failed over
 * @param move     the move under way, or null
 */
public record Region(String name, RegionState state, String servedBy, RegionMove move) {
    public Region {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        servedBy = servedBy == null ? name : servedBy;
    }

    public static Region active(String name) {
        return new Region(name, RegionState.ACTIVE, name, null);
    }
}
