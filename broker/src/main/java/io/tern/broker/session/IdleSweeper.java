package io.tern.broker.session;

import io.netty.channel.EventLoop;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Idle detection for authenticated connections: one timer per event loop instead of an
 * {@code IdleStateHandler} (handler, context and scheduled task: about 240 bytes) per connection.
 * Every {@code idleTimeout / SWEEPS_PER_TIMEOUT} each loop walks its own sessions; one that has
 * read no frame during {@value #SWEEPS_PER_TIMEOUT} sweeps in a row gets a reader-idle event in its
 * pipeline, which its {@link SessionHandler} turns into DISCONNECT(IDLE_TIMEOUT). A device is so
 * disconnected between one and 1⅛ idle timeouts after its last frame, never earlier. Connections
 * not yet authenticated are covered by the handshake timeout instead. The same walk drops the
 * unacked msgIds' array of a connection that stopped being written to ({@link Session#sweepUnacked}).
 */
public final class IdleSweeper {
    static final int SWEEPS_PER_TIMEOUT = 8;

    private final LocalApps apps;
    private final long periodNanos;

    public IdleSweeper(LocalApps apps, Duration idleTimeout) {
        this.apps = apps;
        this.periodNanos = Math.max(1, idleTimeout.toNanos() / SWEEPS_PER_TIMEOUT);
    }

    /** Schedules the sweep on every loop of {@code loops}; it stops when they shut down. */
    public void start(EventExecutorGroup loops) {
        for (EventExecutor e : loops) {
            EventLoop loop = (EventLoop) e;
            loop.scheduleAtFixedRate(() -> sweep(loop), periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** One sweep of {@code loop}'s sessions; runs on that loop. */
    void sweep(EventLoop loop) {
        LocalApps.PerLoop sessions = apps.of(loop);
        if (sessions == null) {
            return;
        }
        List<Session> idle = new ArrayList<>();
        sessions.forEach(s -> {
            s.sweepUnacked();
            // Not read because its acks wait for room on the way to Kafka: the broker is quiet, not the device.
            if (s.readSinceSweep || !s.channel().config().isAutoRead()) {
                s.readSinceSweep = false;
                s.quietSweeps = 0;
            } else if (++s.quietSweeps >= SWEEPS_PER_TIMEOUT && !s.closing()) {
                s.quietSweeps = 0;
                idle.add(s);
            }
        });
        // Outside the walk: a connection that closes at once leaves the arrays being walked.
        for (Session s : idle) {
            s.channel().pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
        }
    }
}
