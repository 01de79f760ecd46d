package io.tern.broker.region;

import io.netty.channel.ChannelFuture;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Session;
import io.tern.protocol.frame.ReasonCode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * A stopping broker's first step with its devices: REDIRECT SERVER_SHUTTING_DOWN to the other live brokers of its
 * region, paced at {@code ratePerSecond}, so the peers admit them (each admits {@code broker.admission-rate}
 * CONNECTs per second and answers the rest SERVER_BUSY) and the dispatchers see no storm. TCP devices get up to
 * {@value RegionMover#REDIRECT_ADDRESSES} peer addresses from a random one on (they land without a dispatcher round
 * trip); WebSocket devices, and all when no peer is live, get none and re-dispatch. It redirects for at most
 * {@code max}: devices still here then get the stop's DISCONNECT SERVER_SHUTTING_DOWN, all at once, as before.
 */
public final class ShutdownRedirects {
    /** Pacing step: each tick sends the redirects the rate allows by then. */
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final int ratePerSecond;
    private final Duration max;
    private final Disconnects disconnects;
    private final LongSupplier nanos;
    private final LongPredicate pause;
    private final RandomGenerator random;

    /**
     * @param nanos a monotonic clock ({@code System::nanoTime})
     * @param pause waits that many nanoseconds; false when interrupted ({@link #sleep})
     */
    public ShutdownRedirects(int ratePerSecond, Duration max, Disconnects disconnects, LongSupplier nanos,
                             LongPredicate pause, RandomGenerator random) {
        if (ratePerSecond < 1) {
            throw new IllegalArgumentException("ratePerSecond must be at least 1, got " + ratePerSecond);
        }
        this.ratePerSecond = ratePerSecond;
        this.max = max;
        this.disconnects = disconnects;
        this.nanos = nanos;
        this.pause = pause;
        this.random = random;
    }

    /**
     * Redirects {@code sessions} (new CONNECTs must already be refused) to {@code peers}; blocks the calling
     * thread (the stop's) until every session was sent on or {@code max} passed.
     *
     * @return the redirects' writes, one per session redirected: the stop waits for them before it closes the
     *         event loops, which would otherwise close a channel with its REDIRECT still queued
     */
    public List<ChannelFuture> drain(Collection<Session> sessions, List<String> peers) {
        long start = nanos.getAsLong();
        long deadline = start + max.toNanos();
        List<ChannelFuture> writes = new ArrayList<>();
        for (Session s : sessions) {
            long now = nanos.getAsLong();
            // The n-th redirect (from 0) leaves no earlier than n / rate after the first.
            long due = start + (long) (writes.size() * 1e9 / ratePerSecond);
            while (now < due && now < deadline) {
                // At least a tick: at high rates the redirects go in small bursts, not one sleep each.
                if (!pause.test(Math.min(Math.max(due - now, TICK_NANOS), deadline - now))) {
                    return writes; // interrupted: the stop goes on with DISCONNECTs
                }
                now = nanos.getAsLong();
            }
            if (now >= deadline) {
                break;
            }
            ChannelFuture written = disconnects.redirect(s, ReasonCode.SERVER_SHUTTING_DOWN,
                    s.webSocket() ? List.of() : RegionMover.pick(peers, random));
            if (written != null) {
                writes.add(written);
            }
        }
        return writes;
    }

    /** The real pause: sleeps; false when interrupted (the interrupt flag is kept). */
    public static boolean sleep(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
