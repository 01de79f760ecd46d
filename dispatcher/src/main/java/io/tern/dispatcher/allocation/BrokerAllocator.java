package io.tern.dispatcher.allocation;

import io.tern.store.registry.BrokerInfo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Orders live brokers for one device: the home region's brokers least loaded first, at most
 * {@code maxHome} of them, then the least-loaded broker of each other region (so a device can
 * still connect when its home region is gone). A pure function of its arguments.
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

    public static List<BrokerInfo> allocate(List<BrokerInfo> live, String homeRegion, String regId, int maxHome,
                                            int loadBucket) {
        if (maxHome < 1) {
            throw new IllegalArgumentException("maxHome must be at least 1, got " + maxHome);
        }
        if (live.isEmpty()) {
            return List.of();
        }
        Comparator<BrokerInfo> order = order(regId, loadBucket);
        List<BrokerInfo> home = new ArrayList<>();
        Map<String, BrokerInfo> bestPerOtherRegion = new HashMap<>();
        for (BrokerInfo b : live) {
            if (b.region().equals(homeRegion)) {
                home.add(b);
            } else {
                bestPerOtherRegion.merge(b.region(), b, (a, c) -> order.compare(a, c) <= 0 ? a : c);
            }
        }
        home.sort(order);
        List<BrokerInfo> others = new ArrayList<>(bestPerOtherRegion.values());
        others.sort(order);
        List<BrokerInfo> out = new ArrayList<>(Math.min(home.size(), maxHome) + others.size());
        out.addAll(home.subList(0, Math.min(home.size(), maxHome)));
        out.addAll(others);
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
