package io.tern.pipeline.id;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.nodeid.NodeIdRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * This logic node's msgId node id, leased in Redis so no two live nodes hold the same one.
 * <p>
 * A configured id is taken when free or held by a node with the same {@code logic.id} (its own
 * restart after a crash); held by another node, start-up fails. Auto mode takes any free id.
 * The lease is renewed every third of its TTL. The id is usable only while the last renewal that
 * succeeded was sent less than the TTL ago (minus a margin for clock drift): a node that cannot
 * renew, or whose id was taken over, stops issuing ids before anyone else could hold the id, and
 * tries to lease one again. Each grant carries the id's high-water mark: ids issued under it start
 * above the last millisecond any earlier holder could have used.
 */
public final class NodeIdLease implements MsgIdGenerator.NodeIdSource, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeIdLease.class);
    public static final int MAX_NODE_ID = 1023;

    private final NodeIdRepository repo;
    private final int configured;
    private final String logicId;
    private final String token = UUID.randomUUID().toString();
    private final long ttlMillis;
    private final long usableNanos;
    private final LongSupplier wallClock;
    private final LongSupplier nanoClock;
    private final ScheduledExecutorService renewer;
    private volatile MsgIdGenerator.Grant grant;
    private volatile long usableUntilNanos;
    private volatile boolean closed;
    /** Who held the id the last take was refused (acquiring threads only). */
    private String holder;

    private NodeIdLease(NodeIdRepository repo, int configured, String logicId, Duration ttl, LongSupplier wallClock,
                        LongSupplier nanoClock) {
        this.repo = repo;
        this.configured = configured;
        this.logicId = logicId;
        this.ttlMillis = ttl.toMillis();
        // A tenth of the TTL for clock rate differences between this host and Redis.
        this.usableNanos = TimeUnit.MILLISECONDS.toNanos(ttlMillis - ttlMillis / 10);
        this.wallClock = wallClock;
        this.nanoClock = nanoClock;
        this.renewer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "logic-" + logicId + "-node-id-lease");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Leases the configured id ({@code -1}: any free one) and starts renewing it.
     *
     * @throws IllegalStateException when the configured id is held by another logic node, or no id is free
     */
    public static NodeIdLease acquire(NodeIdRepository repo, int configured, String logicId, Duration ttl,
                                      LongSupplier wallClock, LongSupplier nanoClock, MeterRegistry registry) {
        NodeIdLease lease = new NodeIdLease(repo, configured, logicId, ttl, wallClock, nanoClock);
        String refusal = lease.tryAcquire(-1, true);
        if (refusal != null) {
            lease.renewer.shutdownNow();
            throw new IllegalStateException(refusal);
        }
        long period = Math.max(1, lease.ttlMillis / 3);
        lease.renewer.scheduleWithFixedDelay(lease::renewOrReacquire, period, period, TimeUnit.MILLISECONDS);
        Gauge.builder("tern.logic.node-id.usable", lease, l -> l.current() == null ? 0 : 1)
                .description("1 while this node holds its msgId node id lease (0: the API answers 503)").register(registry);
        log.info("[logic {}] leased msgId node id {}", logicId, lease.grant.nodeId());
        return lease;
    }

    @Override
    public MsgIdGenerator.Grant current() {
        MsgIdGenerator.Grant g = grant;
        return g != null && usableUntilNanos - nanoClock.getAsLong() > 0 ? g : null;
    }

    /** The node id held now, or -1 while none is usable. */
    public int nodeId() {
        MsgIdGenerator.Grant g = current();
        return g == null ? -1 : g.nodeId();
    }

    /**
     * @param restart at start-up, an id held under this node's logic.id is its own from before a crash
     * @return null when an id is held, else why none could be
     */
    private String tryAcquire(int previous, boolean restart) {
        if (configured >= 0) {
            return take(configured, restart) ? null : "logic.node-id " + configured + " is held by another logic node ("
                    + holder + "); give each logic node its own logic.node-id, or set logic.node-id=auto";
        }
        if (previous >= 0 && take(previous, false)) {
            return null;
        }
        int start = ThreadLocalRandom.current().nextInt(MAX_NODE_ID + 1);
        for (int i = 0; i <= MAX_NODE_ID; i++) {
            if (take((start + i) % (MAX_NODE_ID + 1), false)) {
                return null;
            }
        }
        return "no free msgId node id: all " + (MAX_NODE_ID + 1) + " are leased by live logic nodes";
    }

    private boolean take(int id, boolean restart) {
        long sent = nanoClock.getAsLong();
        NodeIdRepository.Acquired a = repo.acquire(id, logicId, token, ttlMillis, wallClock.getAsLong(), restart)
                .orTimeout(ttlMillis, TimeUnit.MILLISECONDS).join();
        if (!a.taken()) {
            holder = a.holder();
            return false;
        }
        grant = new MsgIdGenerator.Grant(id, a.highWaterMillis());
        usableUntilNanos = sent + usableNanos;
        return true;
    }

    private void renewOrReacquire() {
        if (closed) {
            return;
        }
        MsgIdGenerator.Grant g = grant;
        try {
            if (g != null) {
                long sent = nanoClock.getAsLong();
                boolean held = repo.renew(g.nodeId(), logicId, token, ttlMillis, wallClock.getAsLong())
                        .orTimeout(ttlMillis, TimeUnit.MILLISECONDS).join();
                if (held) {
                    usableUntilNanos = sent + usableNanos;
                    return;
                }
                log.error("[logic {}] lost msgId node id {} (expired or taken over): issuing no ids until one is leased again",
                        logicId, g.nodeId());
                grant = null;
            }
            String refusal = tryAcquire(g == null ? -1 : g.nodeId(), false);
            if (refusal == null) {
                log.warn("[logic {}] leased msgId node id {} again", logicId, grant.nodeId());
            } else {
                log.error("[logic {}] {}", logicId, refusal);
            }
        } catch (RuntimeException e) {
            // Redis unreachable: the id stays usable until its validity runs out, then ids stop.
            log.warn("[logic {}] cannot renew msgId node id lease: {}", logicId, e.toString());
        }
    }

    @Override
    public void close() {
        closed = true;
        renewer.shutdownNow();
        MsgIdGenerator.Grant g = grant;
        grant = null;
        if (g != null) {
            try {
                repo.release(g.nodeId(), logicId, token).orTimeout(ttlMillis, TimeUnit.MILLISECONDS).join();
            } catch (RuntimeException e) {
                log.debug("[logic {}] node id {} not released (expires by itself): {}", logicId, g.nodeId(), e.toString());
            }
        }
    }
}
