package io.tern.dispatcher.allocation;

import io.tern.store.region.RegionPolicy;
import io.tern.store.registry.BrokerInfo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Orders live brokers for one device: the brokers of the region that serves the device's home
 * region under the region policy (the home itself, unless it is failing or failed over) least loaded
 * first, at most {@code maxHome} of them, then the least-loaded broker of each other region that is
 * not being evacuated (so a device can still connect when its serving region is gone). Evacuated
 * regions' brokers are offered only when nothing else is left. A pure function of its arguments.
 *
 * <p>Each broker's load is its connection count plus a per-device offset in [0, loadBucket) from
 * a hash of (regId, brokerId), rendezvous style. Brokers within about a bucket of each other
 * share new devices (each device with its own stable order), so a connection storm against
 * seconds-old counts, or a fleet of fresh brokers, spreads instead of herding onto the one that
 * looked emptiest; a broker more than a bucket emptier always comes first.
 * {@link String#hashCode()} is specified by the JDK, so every dispatcher instance agrees.
 */
public final class BrokerAllocator {
    private BrokerAllocator() {
    }

    /**
     * @param policy     the region policy ({@link RegionPolicy#EMPTY}: every region serves itself)
     * @param homeRegion the device's home region (it stays the token's region claim whoever serves it)
     */
    public static List<BrokerInfo> allocate(List<BrokerInfo> live, RegionPolicy policy, String homeRegion, String regId,
                                            int maxHome, int loadBucket) {
        if (maxHome < 1) {
            throw new IllegalArgumentException("maxHome must be at least 1, got " + maxHome);
        }
        if (live.isEmpty()) {
            return List.of();
        }
        Comparator<BrokerInfo> order = order(regId, loadBucket);
        String serving = policy.servingRegion(homeRegion);
        boolean servingEvacuated = policy.evacuated(serving);
        List<BrokerInfo> first = new ArrayList<>();
        Map<String, BrokerInfo> bestPerOtherRegion = new HashMap<>();
        Map<String, BrokerInfo> bestPerEvacuatedRegion = new HashMap<>();
        for (BrokerInfo b : live) {
            if (b.region().equals(serving) && !servingEvacuated) {
                first.add(b);
            } else {
                Map<String, BrokerInfo> best = policy.evacuated(b.region()) ? bestPerEvacuatedRegion : bestPerOtherRegion;
                best.merge(b.region(), b, (a, c) -> order.compare(a, c) <= 0 ? a : c);
            }
        }
        first.sort(order);
        List<BrokerInfo> others = new ArrayList<>(bestPerOtherRegion.values());
        others.sort(order);
        List<BrokerInfo> out = new ArrayList<>(Math.min(first.size(), maxHome) + others.size());
        out.addAll(first.subList(0, Math.min(first.size(), maxHome)));
        out.addAll(others);
        if (out.isEmpty()) {
            // Only regions being emptied are left: a broker there beats no broker.
            List<BrokerInfo> lastResort = new ArrayList<>(bestPerEvacuatedRegion.values());
            lastResort.sort(order);
            out.addAll(lastResort);
        }
        return out;
    }

    /** Least (load + device offset) first; then the rendezvous rank; then id, for a total order. */
    static Comparator<BrokerInfo> order(String regId, int loadBucket) {
        long device = (long) regId.hashCode() << 32;
        return Comparator.comparingLong((BrokerInfo b) -> b.connections() + Math.floorMod(rank(device, b.id()), loadBucket))
                .thenComparingLong(b -> rank(device, b.id()))
                .thenComparing(BrokerInfo::id);
    }

    static long rank(long deviceBits, String brokerId) {
        return mix64(deviceBits ^ (brokerId.hashCode() & 0xFFFF_FFFFL));
    }

    /** MurmurHash3's 64-bit finaliser: spreads similar inputs over the whole range. */
    static long mix64(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
