package io.tern.store.region;

import java.util.Objects;

/**
 * One region in the policy.
 *
 * @param name     the region's name, as brokers report it ({@code broker.region})
 * @param state    where it stands in the failover cycle
 * @param servedBy the region whose brokers serve its devices: itself unless failing or failed over
 * @param move     the move under way, or null
 * @param lastMove the last move that completed (with its finish time), or null: what the admin API shows
 *                 when no move is under way
 */
public record Region(String name, RegionState state, String servedBy, RegionMove move, RegionMove lastMove) {
    public Region {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        servedBy = servedBy == null ? name : servedBy;
    }

    public Region(String name, RegionState state, String servedBy, RegionMove move) {
        this(name, state, servedBy, move, null);
    }

    public static Region active(String name) {
        return new Region(name, RegionState.ACTIVE, name, null, null);
    }

    /** The region with {@code next} as its move under way (state and servedBy unchanged). */
    public Region withMove(RegionMove next) {
        return new Region(name, state, servedBy, next, lastMove);
    }
}
