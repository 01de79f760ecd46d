package io.tern.store.lease;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Holds or waits for a role's {@link LeaderLease} (the global scheduler's, the rate controller's): the leader
 * renews it every third of the TTL; a follower tries to take it every tenth, so it leads soon after a dead
 * leader's lease expires. A leader counts itself leader only while its last renewal is younger than
 * the TTL minus one renewal period, so it stops acting before the lease can have expired in Redis (a
 * Redis outage or a long pause deposes it on its own). {@link #close} releases the lease so the other
 * instance takes over at its next attempt rather than after the TTL.
 */
public final class LeaderElection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

    private final LeaderLease lease;
    private final String holder;
    private final long ttlMillis;
    private final long periodMillis;
    private final long followerPeriodMillis;
    private final Duration callTimeout;
    private final Clock clock;
    private final String prefix;
    private final ScheduledExecutorService thread;
    private volatile long validUntilMillis = Long.MIN_VALUE;
    private volatile boolean held; // written on the election thread only
    private long lastRenewMillis; // election thread only

    /**
     * @param role        names the role in logs and the thread, e.g. "global-scheduler"
     * @param instanceId  this instance's id, the first part of the holder
     * @param callTimeout bound on one lease call, so a hung call cannot stop later attempts
     */
    public LeaderElection(LeaderLease lease, String role, String instanceId, Duration ttl, Duration callTimeout,
                          Clock clock) {
        byte[] token = new byte[8];
        new SecureRandom().nextBytes(token);
        this.lease = lease;
        this.holder = instanceId + '|' + HexFormat.of().formatHex(token);
        this.ttlMillis = ttl.toMillis();
        this.periodMillis = Math.max(1, ttlMillis / 3);
        this.followerPeriodMillis = Math.max(10, ttlMillis / 10);
        this.callTimeout = callTimeout;
        this.clock = clock;
        this.prefix = "[" + role + " " + instanceId + " leader]";
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, role + "-" + instanceId + "-leader");
            t.setDaemon(true);
            return t;
        });
    }

    /** Tries at once (so a lone instance leads from its start), then as the class says. */
    public LeaderElection start() {
        thread.scheduleWithFixedDelay(this::attempt, 0, followerPeriodMillis, TimeUnit.MILLISECONDS);
        return this;
    }

    /** True while this instance holds a lease that cannot yet have expired. */
    public boolean isLeader() {
        return held && clock.millis() < validUntilMillis;
    }

    /** {@code instanceId|token}: what the lease key holds while this instance leads. */
    public String holder() {
        return holder;
    }

    private void attempt() {
        long started = clock.millis();
        if (held && started - lastRenewMillis < periodMillis) {
            return;
        }
        try {
            if (held) {
                // A failed renewal is retried at the follower pace, not a third of the TTL later.
                boolean renewed = lease.renew(holder, ttlMillis).get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
                if (renewed) {
                    lastRenewMillis = started;
                    validUntilMillis = started + ttlMillis - periodMillis;
                } else {
                    held = false;
                    log.warn("{} lost the lease (expired or taken over); following", prefix);
                }
            } else if (lease.acquire(holder, ttlMillis).get(callTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                validUntilMillis = started + ttlMillis - periodMillis;
                lastRenewMillis = started;
                held = true;
                log.info("{} took the lease: leading (ttl {} ms)", prefix, ttlMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (held && clock.millis() >= validUntilMillis) {
                held = false;
                log.warn("{} cannot renew the lease ({}); following until it can be taken again", prefix, e.toString());
            } else {
                log.debug("{} lease call failed: {}", prefix, e.toString());
            }
        }
    }

    /** Stops trying and releases the lease if held. */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(callTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (held) {
            held = false;
            try {
                lease.release(holder).get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
                log.info("{} released the lease", prefix);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.warn("{} releasing the lease failed; it expires with its TTL: {}", prefix, e.toString());
            }
        }
    }

}
