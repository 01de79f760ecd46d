package io.tern.store.registry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * An in-memory snapshot of the live brokers, re-read from the registry on a schedule, so request
 * paths (dispatch, push routing) never wait on the store for it. A failed refresh keeps the
 * last snapshot; {@link #fresh()} says whether it is recent enough to trust.
 */
public final class LiveBrokers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LiveBrokers.class);

    public record Snapshot(List<BrokerInfo> brokers, Map<String, BrokerInfo> byId, long readAtMillis) {
        static final Snapshot EMPTY = new Snapshot(List.of(), Map.of(), 0L);
    }

    private final BrokerRegistry registry;
    private final Duration interval;
    private final LongSupplier clock;
    private final ScheduledExecutorService timer;
    private volatile Snapshot snapshot = Snapshot.EMPTY;

    private LiveBrokers(BrokerRegistry registry, Duration interval, LongSupplier clock, String owner) {
        this.registry = registry;
        this.interval = interval;
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner + "-live-brokers");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reads once (waiting up to 5 s) and then every {@code interval}. */
    public static LiveBrokers start(BrokerRegistry registry, Duration interval, LongSupplier clock, String owner) {
        LiveBrokers live = new LiveBrokers(registry, interval, clock, owner);
        try {
            live.refresh().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("[{}] first read of the broker registry failed: {}", owner, e.toString());
        }
        live.timer.scheduleWithFixedDelay(live::refresh, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return live;
    }

    private java.util.concurrent.CompletableFuture<Void> refresh() {
        return registry.live().handle((brokers, err) -> {
            if (err != null) {
                log.debug("broker registry refresh failed: {}", err.toString());
            } else {
                snapshot = new Snapshot(List.copyOf(brokers),
                        brokers.stream().collect(Collectors.toUnmodifiableMap(BrokerInfo::id, Function.identity(), (a, b) -> a)),
                        clock.getAsLong());
            }
            return null;
        });
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    /** @return the live broker with this id, or null when it is not (or no longer) live */
    public BrokerInfo get(String brokerId) {
        return snapshot.byId().get(brokerId);
    }

    /** True when the snapshot was read within three refresh intervals. */
    public boolean fresh() {
        return clock.getAsLong() - snapshot.readAtMillis() <= 3 * interval.toMillis();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
