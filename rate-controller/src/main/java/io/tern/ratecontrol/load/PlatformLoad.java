package io.tern.ratecontrol.load;

import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.DeliveryStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * The platform's downstream load as the controller sees it at one tick: per region and in total, plus what the
 * obeyers report they let through the permit.
 *
 * @param capacity   deliveries/s the live brokers can take (sum of the regions' capacities)
 * @param downstream deliveries/s the live brokers wrote over their last second
 * @param gated      deliveries/s the obeyers let through the permit, or empty when none reports
 * @param atMillis   when the registry was read
 */
public record PlatformLoad(List<RegionLoad> regions, long capacity, double downstream, OptionalDouble gated,
                           long atMillis) {
    public static final PlatformLoad NONE = new PlatformLoad(List.of(), 0, 0, OptionalDouble.empty(), 0);

    public PlatformLoad {
        regions = List.copyOf(regions);
    }

    /**
     * Sums the brokers per region; a region's capacity is its brokers' sum, lowered to its cap when one is
     * configured. A broker that reports no capacity (an older broker) adds its deliveries but no capacity.
     */
    public static PlatformLoad of(List<BrokerInfo> brokers, Map<String, Long> regionCaps, OptionalDouble gated,
                                  long atMillis) {
        Map<String, long[]> counts = new TreeMap<>();
        Map<String, Double> rates = new TreeMap<>();
        for (BrokerInfo b : brokers) {
            DeliveryStats d = b.deliveries();
            long[] c = counts.computeIfAbsent(b.region(), r -> new long[2]);
            c[0]++;
            c[1] += d.capacityPerSecond();
            rates.merge(b.region(), d.perSecond(), Double::sum);
        }
        List<RegionLoad> out = new ArrayList<>(counts.size());
        long capacity = 0;
        double downstream = 0;
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            long sum = e.getValue()[1];
            Long cap = regionCaps.get(e.getKey());
            long regionCapacity = cap == null ? sum : Math.min(sum, cap);
            double rate = rates.get(e.getKey());
            out.add(new RegionLoad(e.getKey(), (int) e.getValue()[0], regionCapacity, rate,
                    cap != null && cap < sum ? cap : 0));
            capacity += regionCapacity;
            downstream += rate;
        }
        return new PlatformLoad(out, capacity, downstream, gated, atMillis);
    }

    /** Downstream as a share of capacity (0 without capacity). */
    public double ratio() {
        return capacity <= 0 ? 0 : downstream / capacity;
    }

    /**
     * Deliveries/s the permit does not control: downstream minus what the obeyers let through. Without reports
     * all of it counts as ungated, which throttles harder than needed rather than too little.
     */
    public double ungated() {
        return gated.isPresent() ? Math.max(0, downstream - gated.getAsDouble()) : downstream;
    }
}
