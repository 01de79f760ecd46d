package io.tern.broker.region;

import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Session;
import io.tern.broker.session.Sessions;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.region.Region;
import io.tern.store.region.RegionMove;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * This broker's part in the region moves the global scheduler orders ({@link RegionPolicy}): for
 * each move whose {@code from} is this broker's region, it sends REDIRECT REGION_MOVED to the
 * sessions the move covers, naming the TCP addresses of up to {@value #REDIRECT_ADDRESSES} live brokers of
 * the move's {@code to} region from a random starting point (so devices spread over them and land without
 * a dispatcher round trip: a move of thousands of devices a second would otherwise queue at the
 * dispatcher); WebSocket sessions, and any when {@code to} has no live broker in the registry copy, get
 * no address and re-dispatch. It redirects at this broker's share of the move's rate: {@code ratePerSecond}
 * divided by the live brokers of {@code from} (the registry), so the region as a whole redirects
 * at the rate. A move redirects until its stage fraction of the covered sessions this broker held
 * when it first saw the move (per move id) have left: covered sessions left ≤ held × (1 − fraction);
 * at fraction 1 that is every covered session, including ones that connect later. A paused move
 * redirects nothing.
 *
 * <p>Runs on its own thread, one tick per {@code tick} from a random phase (brokers do not redirect
 * in step; each second's redirects are spread over its ticks), at most {@code batchMax} per tick;
 * redirect writes are handed to the connections' event loops, never waited for. Sessions are taken
 * from a walk over the connection map that carries on where the last tick stopped and skips
 * covered sessions at random, so no two brokers (or two moves) pick in the same order.
 */
public final class RegionMover implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegionMover.class);
    /** Sessions one tick looks at per redirect it may send, at most: bounds a tick's work. */
    private static final int WALK_PER_REDIRECT = 8;
    /** Target addresses in one REDIRECT: the device tries them in order, then re-dispatches. */
    static final int REDIRECT_ADDRESSES = 3;

    private final String region;
    private final Sessions sessions;
    private final Disconnects disconnects;
    private final Supplier<RegionPolicy> policy;
    private final Function<String, List<String>> brokerAddressesOf;
    private final long tickNanos;
    private final int batchMax;
    private final LongSupplier nanos;
    private final RandomGenerator random;
    private final String prefix;
    private final ScheduledExecutorService thread;
    // Tick thread only.
    private final Map<Long, MoveState> moves = new HashMap<>();
    private Iterator<Session> walk;
    /** Sessions redirected and not removed yet (bounded by the redirects of the last few ticks). */
    private final ConcurrentHashMap<Session, MoveState> redirected = new ConcurrentHashMap<>();

    /** What this broker knows about one move, keyed by its id. */
    private static final class MoveState {
        final int held;
        long lastNanos;
        double credit;
        long redirected;
        boolean stageDoneLogged;
        // Redirected sessions not removed yet: still counted in their home's sessions.
        final AtomicInteger leaving = new AtomicInteger();

        MoveState(int held, long now) {
            this.held = held;
            this.lastNanos = now;
        }
    }

    /**
     * @param region        this broker's region
     * @param policy        the current region policy (the watcher's in-memory copy)
     * @param liveBrokersOf live brokers of a region, from the registry (this broker's share is the rate divided by it)
     * @param tick          how often redirects are sent
     * @param batchMax      most redirects per tick
     */
    public RegionMover(String brokerId, String region, Sessions sessions, Disconnects disconnects,
                       Supplier<RegionPolicy> policy, Function<String, List<String>> brokerAddressesOf, Duration tick,
                       int batchMax,
                       LongSupplier nanos, RandomGenerator random) {
        this.region = region;
        this.sessions = sessions;
        this.disconnects = disconnects;
        this.policy = policy;
        this.brokerAddressesOf = brokerAddressesOf;
        this.tickNanos = tick.toNanos();
        this.batchMax = batchMax;
        this.nanos = nanos;
        this.random = random;
        this.prefix = "[broker " + brokerId + " region-mover]";
        sessions.onRemoved(this::removed);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tern-broker-" + brokerId + "-region-mover");
            t.setDaemon(true);
            return t;
        });
    }

    /** Called by the connection map as each session leaves. */
    private void removed(Session s) {
        if (redirected.isEmpty()) {
            return;
        }
        MoveState st = redirected.remove(s);
        if (st != null) {
            st.leaving.decrementAndGet();
        }
    }

    public RegionMover start() {
        long phase = random.nextLong(tickNanos);
        thread.scheduleAtFixedRate(this::safeTick, phase, tickNanos, TimeUnit.NANOSECONDS);
        return this;
    }

    /** True while this broker's region is failed over: its devices belong elsewhere until failback. */
    public boolean regionFailedOver() {
        return policy.get().region(region).state() == RegionState.FAILED_OVER;
    }

    private void safeTick() {
        try {
            tick();
        } catch (RuntimeException e) {
            log.warn("{} tick failed", prefix, e);
        }
    }

    /** One round: each move from this region sends its share of redirects since the last round. */
    void tick() {
        List<Region> from = policy.get().movesFrom(region);
        if (from.isEmpty()) {
            moves.clear();
            return;
        }
        moves.keySet().removeIf(id -> from.stream().noneMatch(r -> r.move().id() == id));
        long now = nanos.getAsLong();
        for (Region r : from) {
            RegionMove m = r.move();
            MoveState st = moves.get(m.id());
            if (st == null) {
                st = new MoveState(covered(r.name(), m), now);
                moves.put(m.id(), st);
                log.info("{} move {} ({} of region {}, {} -> {}): {} covered sessions here, {} redirects/s over {} "
                                + "brokers, stage fraction {}{}", prefix, m.id(), m.direction().wire(), r.name(), m.from(),
                        m.to(), st.held, m.ratePerSecond(), liveBrokers(m), m.stageFraction(), m.paused() ? ", paused" : "");
            }
            step(r.name(), m, st, now);
        }
    }

    private void step(String regionName, RegionMove m, MoveState st, long now) {
        long elapsed = Math.max(0, now - st.lastNanos);
        st.lastNanos = now;
        if (m.paused()) {
            st.credit = 0; // a resumed move starts at its rate, not with a burst
            return;
        }
        double share = (double) m.ratePerSecond() / liveBrokers(m);
        double perTick = share * tickNanos / 1e9;
        // At most two ticks' worth carried over: a late tick catches up a little, a long stall does not burst.
        st.credit = Math.min(st.credit + share * elapsed / 1e9, Math.max(1, 2 * perTick));
        int left = covered(regionName, m) - st.leaving.get();
        int target = m.stageFraction() >= 1 ? 0 : (int) Math.floor(st.held * (1 - m.stageFraction()));
        int allowed = (int) Math.min(Math.min((long) st.credit, batchMax), (long) left - target);
        if (left <= target && !st.stageDoneLogged) {
            st.stageDoneLogged = true;
            log.info("{} move {} stage {} done here: {} of {} covered sessions left, {} redirected", prefix, m.id(),
                    m.stage(), left, st.held, st.redirected);
        } else if (left > target) {
            st.stageDoneLogged = false;
        }
        if (allowed <= 0) {
            return;
        }
        int sent = redirect(regionName, m, allowed, st);
        st.redirected += sent;
        st.credit -= sent;
    }

    private int liveBrokers(RegionMove m) {
        return Math.max(1, brokerAddressesOf.apply(m.from()).size());
    }

    /** Live sessions here the move covers, from the per-home counts (no scan). */
    private int covered(String regionName, RegionMove m) {
        int n = 0;
        for (Map.Entry<String, Integer> e : sessions.homes().snapshot().entrySet()) {
            if (m.covers(regionName, region, e.getKey())) {
                n += e.getValue();
            }
        }
        return n;
    }

    /** Sends up to {@code max} redirects to covered sessions, walking on from where the last tick stopped. */
    private int redirect(String regionName, RegionMove m, int max, MoveState st) {
        int sent = 0;
        int budget = max * WALK_PER_REDIRECT + 64;
        boolean restarted = false;
        List<String> targets = brokerAddressesOf.apply(m.to());
        while (sent < max && budget-- > 0) {
            if (walk == null || !walk.hasNext()) {
                if (restarted) {
                    break; // walked the whole map this tick
                }
                walk = sessions.all().iterator();
                restarted = true;
                if (!walk.hasNext()) {
                    break;
                }
            }
            Session s = walk.next();
            if (!s.usable() || !m.covers(regionName, region, s.home()) || random.nextInt(4) == 0) {
                continue; // one in four covered sessions is left for a later pass: no fixed order
            }
            // Counted as leaving before the write: the session may be removed before redirect() returns.
            st.leaving.incrementAndGet();
            redirected.put(s, st);
            if (disconnects.redirect(s, ReasonCode.REGION_MOVED, s.webSocket() ? List.of() : pick(targets, random)) != null) {
                sent++;
            } else if (redirected.remove(s) != null) {
                st.leaving.decrementAndGet();
            }
        }
        return sent;
    }

    /** Up to {@value #REDIRECT_ADDRESSES} of {@code targets}, in order from a random one. */
    static List<String> pick(List<String> targets, RandomGenerator random) {
        int n = Math.min(REDIRECT_ADDRESSES, targets.size());
        if (n == 0) {
            return List.of();
        }
        int start = random.nextInt(targets.size());
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
            out[i] = targets.get((start + i) % targets.size());
        }
        return List.of(out);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
