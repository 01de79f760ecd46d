package io.tern.store.registry;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The live brokers as last read from the registry, immutable, and when that read succeeded
 * ({@code refreshedAtMillis < 0}: never).
 */
public record BrokerSnapshot(List<BrokerInfo> brokers, long refreshedAtMillis, Map<String, BrokerInfo> byId) {
    public static final BrokerSnapshot NONE = new BrokerSnapshot(List.of(), -1);

    public BrokerSnapshot(List<BrokerInfo> brokers, long refreshedAtMillis) {
        this(brokers, refreshedAtMillis, brokers.stream()
                .collect(Collectors.toUnmodifiableMap(BrokerInfo::id, Function.identity(), (a, b) -> a)));
    }

    public BrokerSnapshot {
        brokers = List.copyOf(brokers);
        byId = Map.copyOf(byId);
    }

    public boolean everRefreshed() {
        return refreshedAtMillis >= 0;
    }
}
