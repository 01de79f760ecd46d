package io.tern.store.region;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.tern.store.redis.RedisStore;
import io.tern.store.refresh.PeriodicRead;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Keeps an in-memory copy of the region policy for request paths (dispatch, broker redirects),
 * so none waits on Redis for it. A change reaches it pushed (the repository's pub/sub channel
 * triggers a re-read at once) or, if that message is lost, by the poll every {@code pollPeriod}.
 * A failed read keeps the last policy. Listeners run on the reading thread (the first read: the caller of
 * {@link #start}), in version order, once per new version.
 */
public final class RegionPolicyWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegionPolicyWatcher.class);

    private final RedisStore redis;
    private final Duration pollPeriod;
    private final Duration readTimeout;
    private final PeriodicRead<RegionPolicy> reads;
    private final List<Consumer<RegionPolicy>> listeners = new CopyOnWriteArrayList<>();
    private volatile RegionPolicy current = RegionPolicy.EMPTY;
    /** System.nanoTime() of the last successful read; 0 before the first. */
    private volatile long lastReadNanos;
    private StatefulRedisPubSubConnection<String, String> subscription;

    /** @param owner names the role and instance in logs and the thread name, e.g. "broker b1" */
    public RegionPolicyWatcher(RedisStore redis, RegionPolicyRepository repository, Duration pollPeriod,
                               Duration readTimeout, String owner) {
        this.redis = redis;
        this.pollPeriod = pollPeriod;
        this.readTimeout = readTimeout;
        this.reads = new PeriodicRead<>(owner, "regions", "the region policy", pollPeriod, readTimeout,
                repository::load, this::apply);
    }

    /** Reads the policy now (so the first requests see it), subscribes, then polls. */
    public RegionPolicyWatcher start() {
        reads.start();
        subscribe();
        return this;
    }

    private synchronized void subscribe() {
        subscription = redis.connectPubSub();
        subscription.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                if (RegionPolicyRepository.CHANGES_CHANNEL.equals(channel)) {
                    refreshSoon();
                }
            }
        });
        // Lettuce re-subscribes after a reconnect; the poll covers what is missed meanwhile.
        subscription.async().subscribe(RegionPolicyRepository.CHANGES_CHANNEL);
    }

    /** Re-reads the policy on the watcher thread, now. */
    public void refreshSoon() {
        reads.readLater(0);
    }

    public RegionPolicy current() {
        return current;
    }

    /**
     * True while the last successful read is younger than three poll periods (plus one read timeout): a
     * dispatcher or broker whose copy may be older than that could act on a policy the SREs have changed.
     */
    public boolean fresh() {
        long last = lastReadNanos;
        long bound = pollPeriod.multipliedBy(3).plus(readTimeout).toNanos();
        return last != 0 && System.nanoTime() - last <= bound;
    }

    /** Called with each newer policy, on the watcher thread; must not block for long. */
    public void onChange(Consumer<RegionPolicy> listener) {
        listeners.add(listener);
    }

    private void apply(RegionPolicy read) {
        lastReadNanos = System.nanoTime();
        if (read.version() <= current.version()) {
            return;
        }
        current = read;
        log.info("{} region policy version {}: {}", reads.prefix(), read.version(), brief(read));
        for (Consumer<RegionPolicy> l : listeners) {
            try {
                l.accept(read);
            } catch (RuntimeException e) {
                log.warn("{} a listener failed on version {}", reads.prefix(), read.version(), e);
            }
        }
    }

    /** One short line however many regions: those active with no move only by count. */
    static String brief(RegionPolicy policy) {
        StringBuilder sb = new StringBuilder();
        int quiet = 0;
        for (Region r : policy.regions()) {
            RegionMove m = r.move();
            if (r.state() == RegionState.ACTIVE && m == null) {
                quiet++;
                continue;
            }
            sb.append(sb.isEmpty() ? "" : ", ").append(r.name()).append(' ').append(r.state().wire());
            if (!r.servedBy().equals(r.name())) {
                sb.append(" (served by ").append(r.servedBy()).append(')');
            }
            if (m != null) {
                sb.append(" [").append(m.direction().wire()).append(' ').append(m.from()).append("->").append(m.to())
                        .append(" stage ").append(m.stage()).append(m.paused() ? " paused" : "").append(']');
            }
        }
        return sb.append(sb.isEmpty() ? "" : ", ").append(quiet).append(" active").toString();
    }

    @Override
    public synchronized void close() {
        reads.close();
        if (subscription != null) {
            subscription.close();
            subscription = null;
        }
    }
}
