package io.tern.store.registry;

import io.tern.store.refresh.PeriodicRead;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Keeps an in-memory copy of the live broker list, re-read from the registry on a fixed delay
 * so request paths (dispatch, push routing) never wait on Redis for it. A failed read keeps the last
 * snapshot: brokers that were alive a few seconds ago are a better answer than none, and
 * devices fall back to re-dispatching if an address is dead. {@link #fresh()} turns false when
 * the snapshot is older than {@value #STALE_AFTER_PERIODS} refresh periods.
 */
public final class BrokerDirectory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerDirectory.class);
    public static final int STALE_AFTER_PERIODS = 3;

    private final Duration period;
    private final Clock clock;
    private final PeriodicRead<List<BrokerInfo>> reads;

    private volatile BrokerSnapshot snapshot = BrokerSnapshot.NONE;
    /** When {@link #refreshSoon} re-reads, after the call. */
    private static final long[] RECOVERY_REFRESHES_MS = {0, 250, 750};
    /** clock.millis() until which a burst of {@link #refreshSoon} is pending; at most one is. */
    private final AtomicLong burstUntil = new AtomicLong();

    /**
     * @param readTimeout bound on one registry read (two Redis round trips), so a hung read
     *                    cannot stop later refreshes
     * @param owner       names the role and instance in logs and the thread name, e.g. "dispatcher d1"
     */
    public BrokerDirectory(BrokerRegistry registry, Duration period, Duration readTimeout, Clock clock, String owner) {
        this.period = period;
        this.clock = clock;
        this.reads = new PeriodicRead<>(owner, "registry", "live brokers", period, readTimeout, registry::live,
                live -> {
                    BrokerSnapshot next = new BrokerSnapshot(usable(live), clock.millis());
                    logChanges(snapshot, next);
                    snapshot = next;
                });
    }

    /** Refreshes now on the calling thread (so the first requests see brokers), then on schedule. */
    public BrokerDirectory start() {
        reads.start();
        return this;
    }

    /**
     * Re-reads the registry now and twice more shortly after (off the calling thread): after a
     * Redis outage brokers re-register within moments of their own reconnect, which may come a
     * little after ours, and their keys may have expired meanwhile. At most one burst is pending.
     */
    public void refreshSoon() {
        long now = clock.millis();
        long until = burstUntil.get();
        if (now < until || !burstUntil.compareAndSet(until, now + RECOVERY_REFRESHES_MS[RECOVERY_REFRESHES_MS.length - 1])) {
            return;
        }
        for (long delay : RECOVERY_REFRESHES_MS) {
            if (!reads.readLater(delay)) {
                return; // closed
            }
        }
    }

    public BrokerSnapshot snapshot() {
        return snapshot;
    }

    /** @return the live broker with this id, or null when it is not (or no longer) live */
    public BrokerInfo get(String brokerId) {
        return snapshot.byId().get(brokerId);
    }

    /** True while the snapshot is younger than {@value #STALE_AFTER_PERIODS} refresh periods. */
    public boolean fresh() {
        BrokerSnapshot s = snapshot;
        return s.everRefreshed() && clock.millis() - s.refreshedAtMillis() <= STALE_AFTER_PERIODS * period.toMillis();
    }

    /** Age of the snapshot in seconds, or -1 before the first successful read (a gauge). */
    public double ageSeconds() {
        BrokerSnapshot s = snapshot;
        return s.everRefreshed() ? (clock.millis() - s.refreshedAtMillis()) / 1000.0 : -1;
    }

    /** Failed reads since start (a counter). */
    public long failures() {
        return reads.failures();
    }

    /** One registry read; blocks up to the read timeout. Never throws. */
    public boolean refreshNow() {
        return reads.readNow();
    }

    /** Drops entries a device could not use; they would only cost it a failed connect. */
    private List<BrokerInfo> usable(List<BrokerInfo> live) {
        List<BrokerInfo> out = new ArrayList<>(live.size());
        for (BrokerInfo b : live) {
            if (b.id() == null || b.region() == null || b.region().isBlank()
                    || b.tcpAddress() == null || b.tcpAddress().isBlank()) {
                log.debug("{} skipping incomplete broker entry {}", reads.prefix(), b);
                continue;
            }
            out.add(b);
        }
        return out;
    }

    private void logChanges(BrokerSnapshot before, BrokerSnapshot after) {
        Set<String> was = ids(before);
        Set<String> now = ids(after);
        if (!before.everRefreshed()) {
            log.info("{} live brokers: {} {}", reads.prefix(), now.size(), brief(now));
            return;
        }
        if (was.equals(now)) {
            return;
        }
        Set<String> joined = new TreeSet<>(now);
        joined.removeAll(was);
        Set<String> left = new TreeSet<>(was);
        left.removeAll(now);
        log.info("{} live brokers: {} (joined {}, left {})", reads.prefix(), now.size(), brief(joined), brief(left));
    }

    /** At most a few ids: a fleet's first read would otherwise log every broker. */
    private static String brief(Set<String> ids) {
        final int max = 20;
        if (ids.size() <= max) {
            return ids.toString();
        }
        return ids.stream().limit(max).collect(Collectors.joining(", ", "[", ", ... " + (ids.size() - max) + " more]"));
    }

    private static Set<String> ids(BrokerSnapshot s) {
        return s.brokers().stream().map(BrokerInfo::id).collect(Collectors.toCollection(TreeSet::new));
    }

    @Override
    public void close() {
        reads.close();
    }
}
