package io.tern.dispatcher.allocation;

import io.tern.store.registry.BrokerInfo;

import java.util.List;

/**
 * The live brokers as last read from the registry, immutable, and when that read succeeded
 * ({@code refreshedAtMillis < 0}: never).
 */
public record BrokerSnapshot(List<BrokerInfo> brokers, long refreshedAtMillis) {
    public static final BrokerSnapshot NONE = new BrokerSnapshot(List.of(), -1);

    public BrokerSnapshot {
        brokers = List.copyOf(brokers);
    }

    public boolean everRefreshed() {
        return refreshedAtMillis >= 0;
    }
}
