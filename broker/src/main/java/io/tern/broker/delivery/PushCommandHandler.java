package io.tern.broker.delivery;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.tern.broker.ack.BroadcastAckCounts;
import io.tern.broker.broadcast.Broadcaster;
import io.tern.broker.broadcast.RecentBroadcasts;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Session;
import io.tern.broker.session.Sessions;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The internal port: logic nodes pipeline commands on persistent connections; each gets its
 * result with its correlationId, possibly out of order.
 * <ul>
 *   <li>PushCommand → PushResult: WRITTEN once the PUSH is on the device's socket.</li>
 *   <li>PushBatch → PushBatchResult: one encoded PUSH to each listed device connected here.</li>
 *   <li>Broadcast → BroadcastResult: one encoded PUSH to every local connection of the app,
 *       paced per event loop ({@link Broadcaster}). With COUNT_ACKS its acks are counted
 *       ({@link BroadcastAckCounts}) from before the first write. One the broker wrote lately (same app and
 *       broadcast sequence number) is answered with its first count and not written again
 *       ({@link RecentBroadcasts}).</li>
 * </ul>
 * A logic node that stops reading its results stops being read: the reply buffer stays bounded
 * by the channel's write watermarks. Likewise a node with {@code maxBroadcastsInFlight}
 * broadcasts still being written is not read until one finishes, and while the broker as a
 * whole has as many broadcasts in flight as it queues ({@link Broadcaster#full()}), every node
 * that sends one is not read until one finishes anywhere.
 */
@ChannelHandler.Sharable
public final class PushCommandHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PushCommandHandler.class);
    private static final AttributeKey<AtomicInteger> BROADCASTS = AttributeKey.valueOf(PushCommandHandler.class, "broadcasts");

    private final String brokerId;
    private final Sessions sessions;
    private final Disconnects disconnects;
    private final BrokerMetrics metrics;
    private final BatchWriter batches;
    private final Broadcaster broadcaster;
    private final BroadcastAckCounts ackCounts;
    private final int maxBroadcastsInFlight;
    private final RecentBroadcasts recent;
    /** Internal connections not read while the broadcaster is full; one entry per logic node at most. */
    private final Set<Channel> waitingForBroadcaster = ConcurrentHashMap.newKeySet();

    public PushCommandHandler(String brokerId, Sessions sessions, Disconnects disconnects, BrokerMetrics metrics,
                              Broadcaster broadcaster, BroadcastAckCounts ackCounts, int maxBroadcastsInFlight,
                              RecentBroadcasts recent) {
        this.brokerId = brokerId;
        this.sessions = sessions;
        this.disconnects = disconnects;
        this.metrics = metrics;
        this.batches = new BatchWriter(sessions, metrics);
        this.broadcaster = broadcaster;
        this.ackCounts = ackCounts;
        this.maxBroadcastsInFlight = maxBroadcastsInFlight;
        this.recent = recent;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Frame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        Channel internal = ctx.channel();
        switch (frame.type()) {
            case PUSH_COMMAND -> push(internal, (Frame.PushCommand) frame);
            case PUSH_BATCH -> batches.write((Frame.PushBatch) frame, internal,
                    r -> internal.writeAndFlush(r, internal.voidPromise()));
            case BROADCAST -> broadcast(internal, (Frame.Broadcast) frame);
            default -> {
                log.debug("[broker {} internal] {} sent {}, closing", brokerId, internal.remoteAddress(), frame.type());
                disconnects.send(internal, ReasonCode.PROTOCOL_VIOLATION, frame.type() + " is not allowed on the internal port");
            }
        }
    }

    private void push(Channel internal, Frame.PushCommand command) {
        Session session = sessions.find(command.appId(), command.regId());
        if (session == null || !session.usable()) {
            reply(internal, command.correlationId(), PushOutcome.NOT_CONNECTED);
            return;
        }
        Channel device = session.channel();
        if (!device.isWritable()) {
            reply(internal, command.correlationId(), PushOutcome.BACKPRESSURE);
            return;
        }
        long correlationId = command.correlationId();
        device.writeAndFlush(command.push()).addListener(f -> {
            if (f.isSuccess()) {
                metrics.pushWritten(BrokerMetrics.PushSource.COMMAND);
                reply(internal, correlationId, PushOutcome.WRITTEN);
            } else {
                reply(internal, correlationId, PushOutcome.NOT_CONNECTED);
            }
        });
    }

    private void reply(Channel internal, long correlationId, PushOutcome outcome) {
        metrics.pushCommand(outcome);
        internal.writeAndFlush(new Frame.PushResult(correlationId, outcome), internal.voidPromise());
    }

    private void broadcast(Channel internal, Frame.Broadcast command) {
        // Only this channel's event loop reads or creates the counter; completions decrement it from any loop.
        AtomicInteger running = internal.attr(BROADCASTS).get();
        if (running == null) {
            running = new AtomicInteger();
            internal.attr(BROADCASTS).set(running);
        }
        if (running.incrementAndGet() >= maxBroadcastsInFlight) {
            internal.config().setAutoRead(false);
        }
        AtomicInteger counter = running;
        long correlationId = command.correlationId();
        CompletableFuture<Integer> done;
        try {
            // The same app broadcast sent again (a retry, or another node finishing a fan-out) is not written again.
            done = recent.writeOnce(command.appId(), command.push().broadcastSeq(), () -> {
                if (command.countAcks()) {
                    ackCounts.register(command.appId(), command.push().msgId());
                }
                return broadcaster.broadcast(command.appId(), command.push(), internal.alloc());
            });
        } catch (RuntimeException e) {
            log.warn("[broker {} app={}] broadcast {} failed to start", brokerId, command.appId(), command.push().msgId(), e);
            done = CompletableFuture.completedFuture(0);
        }
        if (broadcaster.full()) {
            waitingForBroadcaster.add(internal);
            internal.config().setAutoRead(false);
        }
        done.whenComplete((written, err) -> {
            counter.decrementAndGet();
            internal.writeAndFlush(new Frame.BroadcastResult(correlationId, written == null ? 0 : written),
                    internal.voidPromise());
            scheduleAutoRead(internal);
            // A node paused because the broker was full may have nothing of its own left to finish.
            for (Channel waiting : waitingForBroadcaster) {
                if (waiting != internal) {
                    scheduleAutoRead(waiting);
                }
            }
        });
    }

    private void scheduleAutoRead(Channel internal) {
        try {
            internal.eventLoop().execute(() -> updateAutoRead(internal));
        } catch (RejectedExecutionException e) {
            // shutting down: nothing more to read
        }
    }

    private void updateAutoRead(Channel internal) {
        AtomicInteger running = internal.attr(BROADCASTS).get();
        boolean broadcastsOk = running == null || running.get() < maxBroadcastsInFlight;
        // Only nodes that send broadcasts wait for the broadcaster: single pushes and batches go on.
        boolean brokerOk = running == null || !broadcaster.full();
        if (brokerOk || !internal.isActive()) {
            waitingForBroadcaster.remove(internal);
        } else {
            waitingForBroadcaster.add(internal);
        }
        internal.config().setAutoRead(internal.isWritable() && broadcastsOk && brokerOk);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        waitingForBroadcaster.remove(ctx.channel());
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateAutoRead(ctx.channel());
        ctx.fireChannelWritabilityChanged();
    }
}
