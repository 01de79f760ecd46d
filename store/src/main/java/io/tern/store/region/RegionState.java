package io.tern.store.region;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Where a region stands in the failover cycle. Its devices are served by the region itself while
 * {@link #ACTIVE} or {@link #FAILING_BACK}, and by {@link Region#servedBy()} otherwise.
 * <pre>
 *   active --failover--> failing-over --move done--> failed-over --failback--> failing-back --move done--> active
 * </pre>
 */
public enum RegionState {
    ACTIVE("active"),
    FAILING_OVER("failing-over"),
    FAILED_OVER("failed-over"),
    FAILING_BACK("failing-back");

    private final String wire;

    RegionState(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static RegionState of(String wire) {
        for (RegionState s : values()) {
            if (s.wire.equals(wire)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown region state '" + wire + "'");
    }

    /** A move is under way: no other may start. */
    public boolean moving() {
        return this == FAILING_OVER || this == FAILING_BACK;
    }

    /** The region's own brokers are (being) emptied: dispatch sends nobody there. */
    public boolean evacuated() {
        return this == FAILING_OVER || this == FAILED_OVER;
    }
}
