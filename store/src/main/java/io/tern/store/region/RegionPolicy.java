package io.tern.store.region;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * The region policy the global scheduler owns and every dispatcher and broker follows: each region's
 * state, who serves its devices and the move under way. Immutable; every change bumps {@code version}
 * (compare-and-set in {@link RegionPolicyRepository}). A region missing from the policy is active and
 * serves itself.
 */
public record RegionPolicy(long version, long updatedAtMillis, List<Region> regions) {
    /** Before the scheduler ever wrote one: every region serves itself. */
    public static final RegionPolicy EMPTY = new RegionPolicy(0, 0, List.of());

    public RegionPolicy {
        regions = List.copyOf(regions);
    }

    @JsonIgnore
    public Map<String, Region> byName() {
        return regions.stream().collect(Collectors.toUnmodifiableMap(Region::name, Function.identity(), (a, b) -> a));
    }

    /** The region, or an active one of that name when the policy does not list it. */
    public Region region(String name) {
        for (Region r : regions) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        return Region.active(name);
    }

    /** The region whose brokers serve devices whose home is {@code home}. */
    public String servingRegion(String home) {
        return region(home).servedBy();
    }

    /** True when {@code name}'s own brokers are being emptied or are empty by policy. */
    public boolean evacuated(String name) {
        return region(name).state().evacuated();
    }

    /** The moves a broker in {@code brokerRegion} takes part in (as the side devices leave). */
    @JsonIgnore
    public List<Region> movesFrom(String brokerRegion) {
        List<Region> out = new ArrayList<>(1);
        for (Region r : regions) {
            if (r.move() != null && r.move().from().equals(brokerRegion)) {
                out.add(r);
            }
        }
        return out;
    }

    /** The next version: {@code name} replaced by {@code change} applied to it (added when missing). */
    public RegionPolicy with(String name, UnaryOperator<Region> change, long nowMillis) {
        List<Region> next = new ArrayList<>(regions.size() + 1);
        boolean found = false;
        for (Region r : regions) {
            if (r.name().equals(name)) {
                next.add(change.apply(r));
                found = true;
            } else {
                next.add(r);
            }
        }
        if (!found) {
            next.add(change.apply(Region.active(name)));
        }
        return new RegionPolicy(version + 1, nowMillis, next);
    }
}
