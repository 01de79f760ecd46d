package io.tern.store.region;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.tern.store.redis.RedisStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Keeps an in-memory copy of the region policy for request paths (dispatch, broker redirects),
 * so none waits on Redis for it. A change reaches it pushed (the repository's pub/sub channel
 * triggers a re-read at once) or, if that message is lost, by the poll every {@code pollPeriod}.
 * A failed read keeps the last policy. Listeners run on the watcher's own thread, in version order,
 * once per new version.
 */
public final class RegionPolicyWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegionPolicyWatcher.class);

    private final RegionPolicyRepository repository;
    private final RedisStore redis;
    private final Duration pollPeriod;
    private final Duration readTimeout;
    private final String prefix;
    private final ScheduledExecutorService thread;
    private final List<Consumer<RegionPolicy>> listeners = new CopyOnWriteArrayList<>();
    private volatile RegionPolicy current = RegionPolicy.EMPTY;
    private StatefulRedisPubSubConnection<String, String> subscription;
    private boolean failing; // on the watcher thread only

    /** @param owner names the role and instance in logs and the thread name, e.g. "broker b1" */
    public RegionPolicyWatcher(RedisStore redis, RegionPolicyRepository repository, Duration pollPeriod,
                               Duration readTimeout, String owner) {
        this.redis = redis;
        this.repository = repository;
        this.pollPeriod = pollPeriod;
        this.readTimeout = readTimeout;
        this.prefix = "[" + owner + " regions]";
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner.replace(' ', '-') + "-regions");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reads the policy now (so the first requests see it), subscribes, then polls. */
    public RegionPolicyWatcher start() {
        try {
            thread.submit(this::refresh).get(readTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("{} first read of the region policy failed, starting with version {}: {}", prefix,
                    current.version(), e.toString());
        }
        subscribe();
        long ms = pollPeriod.toMillis();
        thread.scheduleWithFixedDelay(this::refresh, ms, ms, TimeUnit.MILLISECONDS);
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
        try {
            thread.execute(this::refresh);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    public RegionPolicy current() {
        return current;
    }

    /** Called with each newer policy, on the watcher thread; must not block for long. */
    public void onChange(Consumer<RegionPolicy> listener) {
        listeners.add(listener);
    }

    private void refresh() {
        RegionPolicy read;
        try {
            read = repository.load().get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            if (!failing) {
                failing = true;
                log.warn("{} reading the region policy failed, keeping version {}: {}", prefix, current.version(),
                        e.toString());
            }
            return;
        }
        if (failing) {
            failing = false;
            log.info("{} reading the region policy works again", prefix);
        }
        if (read.version() <= current.version()) {
            return;
        }
        current = read;
        log.info("{} region policy version {}: {}", prefix, read.version(), brief(read));
        for (Consumer<RegionPolicy> l : listeners) {
            try {
                l.accept(read);
            } catch (RuntimeException e) {
                log.warn("{} a listener failed on version {}", prefix, read.version(), e);
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
        thread.shutdownNow();
        if (subscription != null) {
            subscription.close();
            subscription = null;
        }
    }
}
