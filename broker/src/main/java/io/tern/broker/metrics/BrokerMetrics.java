package io.tern.broker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * The broker's meters. Hot-path counters (frames, pushes, acks) are resolved once here so the
 * event loops only increment; rare ones (auth failures, disconnects) are looked up by tag.
 */
public final class BrokerMetrics {
    /** Which listener a frame crossed. */
    public enum Listener {
        TCP, WS, INTERNAL;

        final String tag = name().toLowerCase(Locale.ROOT);

        /** The metrics' listener label, also how logs name the listener. */
        public String tag() {
            return tag;
        }

        /** A device connection's listener. */
        public static Listener device(boolean webSocket) {
            return webSocket ? WS : TCP;
        }
    }

    /** Where a written PUSH came from. */
    public enum PushSource {
        /** A logic node's PushCommand on the internal port. */
        COMMAND,
        /** The device's offline queue, delivered on connect. */
        OFFLINE,
        /** A logic node's PushBatch (list and tag pushes). */
        BATCH,
        /** App broadcasts the device missed, delivered on connect. */
        CATCHUP;

        final String tag = name().toLowerCase(Locale.ROOT);
    }

    private final MeterRegistry registry;
    private final Counter[][] framesIn = new Counter[Listener.values().length][FrameType.values().length];
    private final Counter[][] framesOut = new Counter[Listener.values().length][FrameType.values().length];
    private final Counter[] pushesWritten = new Counter[PushSource.values().length];
    private final Counter[] commandOutcomes = new Counter[PushOutcome.values().length];
    private final Counter acksReceived;
    private final Counter acksDropped;
    private final Counter acksUnknown;
    private final Counter linksAuthenticated;
    private final Counter linksRefused;
    private final Counter acksUntracked;
    private final Counter acksFailed;
    private final Counter acksBackpressure;
    private final Counter broadcasts;
    private final Counter broadcastWritten;
    private final Counter broadcastSkipped;
    private final Counter broadcastParked;
    private final Counter broadcastParkedWritten;
    private final Counter broadcastParkedDropped;
    private final Counter pushBatches;
    private final Counter batchMisses;
    private final Counter tagUpdatesDropped;
    private final Counter tagSubscribes;
    private final Counter tagUnsubscribes;
    private final Counter admissionsRefused;
    private final DeliveryMeter deliveries;

    public BrokerMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.deliveries = new DeliveryMeter(System::nanoTime);
        FunctionCounter.builder("tern.broker.deliveries", deliveries, DeliveryMeter::total)
                .description("PUSH frames and broadcast copies written to devices (what broker.capacity bounds)")
                .register(registry);
        for (Listener l : Listener.values()) {
            for (FrameType t : FrameType.values()) {
                String type = t.name().toLowerCase(Locale.ROOT);
                framesIn[l.ordinal()][t.ordinal()] = Counter.builder("tern.broker.frames.in")
                        .description("Frames decoded, by listener and type")
                        .tags("listener", l.tag, "type", type).register(registry);
                framesOut[l.ordinal()][t.ordinal()] = Counter.builder("tern.broker.frames.out")
                        .description("Frames written, by listener and type")
                        .tags("listener", l.tag, "type", type).register(registry);
            }
        }
        for (PushSource s : PushSource.values()) {
            pushesWritten[s.ordinal()] = Counter.builder("tern.broker.pushes.written")
                    .description("PUSH frames written to a device socket")
                    .tag("source", s.tag).register(registry);
        }
        for (PushOutcome o : PushOutcome.values()) {
            commandOutcomes[o.ordinal()] = Counter.builder("tern.broker.push.commands")
                    .description("Push commands from logic nodes, by outcome")
                    .tag("outcome", o.name().toLowerCase(Locale.ROOT)).register(registry);
        }
        acksReceived = Counter.builder("tern.broker.acks.received").description("msgIds acked by devices, one per ACK and one per msgId of an ACKS").register(registry);
        linksAuthenticated = Counter.builder("tern.broker.links.authenticated")
                .description("Internal links (logic nodes) that proved the cluster secret").register(registry);
        linksRefused = Counter.builder("tern.broker.links.refused")
                .description("Internal links refused with AUTH_FAILED: no, late or wrong proof, or another frame first")
                .register(registry);
        acksUnknown = Counter.builder("tern.broker.acks.unknown")
                .description("ACKs of a msgId not written to that connection, or already acked: ignored").register(registry);
        acksUntracked = Counter.builder("tern.broker.acks.untracked")
                .description("Written msgIds forgotten because the connection had too many unacked; redelivered later")
                .register(registry);
        acksDropped = Counter.builder("tern.broker.acks.dropped")
                .description("Acks lost because their connection closed or the broker stopped before Kafka took them;"
                        + " the message is redelivered").register(registry);
        acksFailed = Counter.builder("tern.broker.acks.failed")
                .description("Attempts Kafka did not take an ack (down, slow); the ack is sent again").register(registry);
        acksBackpressure = Counter.builder("tern.broker.acks.backpressure")
                .description("Times a connection stopped being read because the acks held for Kafka reached"
                        + " broker.ack-queue-capacity").register(registry);
        broadcasts = Counter.builder("tern.broker.broadcasts").description("BROADCAST commands from logic nodes")
                .register(registry);
        broadcastWritten = Counter.builder("tern.broker.broadcast.deliveries")
                .description("Broadcast frames per connection: written, or skipped (connection not writable)")
                .tag("result", "written").register(registry);
        broadcastSkipped = Counter.builder("tern.broker.broadcast.deliveries")
                .description("Broadcast frames per connection: written, or skipped (connection not writable)")
                .tag("result", "skipped").register(registry);
        String parkedHelp = "Broadcast copies for connections that were not writable: parked, then written once the "
                + "connection drained, or dropped with its closing connection (its device catches up on reconnect)";
        broadcastParked = Counter.builder("tern.broker.broadcast.parked").description(parkedHelp)
                .tag("result", "parked").register(registry);
        broadcastParkedWritten = Counter.builder("tern.broker.broadcast.parked").description(parkedHelp)
                .tag("result", "written").register(registry);
        broadcastParkedDropped = Counter.builder("tern.broker.broadcast.parked").description(parkedHelp)
                .tag("result", "dropped").register(registry);
        pushBatches = Counter.builder("tern.broker.push.batches").description("PUSH_BATCH commands from logic nodes")
                .register(registry);
        batchMisses = Counter.builder("tern.broker.push.batch.misses")
                .description("regIds of PUSH_BATCH answered as not connected (absent, not writable, write failed)")
                .register(registry);
        tagSubscribes = Counter.builder("tern.broker.tag.updates")
                .description("Tags of SUBSCRIBE / UNSUBSCRIBE written to the store, by op").tag("op", "subscribe")
                .register(registry);
        tagUnsubscribes = Counter.builder("tern.broker.tag.updates")
                .description("Tags of SUBSCRIBE / UNSUBSCRIBE written to the store, by op").tag("op", "unsubscribe")
                .register(registry);
        admissionsRefused = Counter.builder("tern.broker.admissions.refused")
                .description("Valid CONNECTs refused SERVER_BUSY (with a retry hint) by the admission rate")
                .register(registry);
        tagUpdatesDropped = Counter.builder("tern.broker.tag.updates.dropped")
                .description("Tag changes dropped because too many tag writes were in flight").register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    public void frameIn(Listener listener, FrameType type) {
        framesIn[listener.ordinal()][type.ordinal()].increment();
    }

    public void frameOut(Listener listener, FrameType type) {
        framesOut[listener.ordinal()][type.ordinal()].increment();
        if (type == FrameType.PUSH && listener != Listener.INTERNAL) {
            deliveries.delivered(1);
        }
    }

    /** What reaches devices, for the registry heartbeat (the rate controller's input). */
    public DeliveryMeter deliveries() {
        return deliveries;
    }

    public void pushWritten(PushSource source) {
        pushesWritten[source.ordinal()].increment();
    }

    public void pushWritten(PushSource source, int n) {
        pushesWritten[source.ordinal()].increment(n);
    }

    public void pushCommand(PushOutcome outcome) {
        commandOutcomes[outcome.ordinal()].increment();
    }

    public void ackReceived() {
        acksReceived.increment();
    }

    public void linkAuthenticated() {
        linksAuthenticated.increment();
    }

    public void linkRefused() {
        linksRefused.increment();
    }

    public void ackUnknown() {
        acksUnknown.increment();
    }

    public void ackUntracked() {
        acksUntracked.increment();
    }

    public void ackDropped() {
        acksDropped.increment();
    }

    public void ackFailed() {
        acksFailed.increment();
    }

    public void ackBackpressure() {
        acksBackpressure.increment();
    }

    public void broadcast() {
        broadcasts.increment();
    }

    /** Copies parked for connections that were not writable in a pass. */
    public void broadcastParked(int parked) {
        if (parked > 0) {
            broadcastParked.increment(parked);
        }
    }

    /** Parked copies written once their connection drained, or dropped with their closed connection. */
    public void broadcastParkedOutcome(int written, int dropped) {
        if (written > 0) {
            broadcastParkedWritten.increment(written);
            deliveries.delivered(written);
        }
        if (dropped > 0) {
            broadcastParkedDropped.increment(dropped);
        }
    }

    /** Per-event-loop totals of one broadcast (frames: connections written × broadcasts, and copies skipped). */
    public void broadcastDeliveries(int written, int skipped) {
        broadcastWritten.increment(written);
        broadcastSkipped.increment(skipped);
        deliveries.delivered(written);
    }

    public void pushBatch() {
        pushBatches.increment();
    }

    public void batchMisses(int n) {
        batchMisses.increment(n);
    }

    /** Tags of a SUBSCRIBE (add) or UNSUBSCRIBE sent to the store. */
    public void tagUpdates(boolean subscribe, int tags) {
        (subscribe ? tagSubscribes : tagUnsubscribes).increment(tags);
    }

    public void tagUpdatesDropped(int tags) {
        tagUpdatesDropped.increment(tags);
    }

    public void authFailure(ReasonCode reason) {
        Counter.builder("tern.broker.auth.failures").description("Refused CONNECTs, by reason")
                .tag("reason", reason.name().toLowerCase(Locale.ROOT)).register(registry).increment();
    }

    public void admissionRefused() {
        admissionsRefused.increment();
    }

    /** A REDIRECT this broker sent (region moves: region_moved). */
    public void redirect(ReasonCode reason) {
        Counter.builder("tern.broker.redirects").description("REDIRECT frames sent, by reason")
                .tag("reason", reason.name().toLowerCase(Locale.ROOT)).register(registry).increment();
    }

    /** The gauge of live sessions whose home region is {@code home}. */
    public void regionSessions(String home, Supplier<Number> sessions) {
        Gauge.builder("tern.broker.region.sessions", sessions)
                .description("Live device sessions by the home region in their connect token")
                .tag("home", home).register(registry);
    }

    /** A DISCONNECT this broker sent. */
    public void disconnect(ReasonCode reason) {
        Counter.builder("tern.broker.disconnects").description("DISCONNECT frames sent, by reason")
                .tag("reason", reason.name().toLowerCase(Locale.ROOT)).register(registry).increment();
    }

    /** A store call failed (route write, offline queue read, broadcast catch-up, route delete, tag write, ...). */
    public void storeFailure(String operation) {
        Counter.builder("tern.broker.store.failures").description("Failed Redis calls, by operation")
                .tag("operation", operation).register(registry).increment();
    }

    /**
     * A step of keeping devices routable through store outages and moves: route-write-retry,
     * route-write-gave-up, route-restored, route-moved, eviction-sent, eviction-received, restore-pass.
     */
    public void recovery(String event) {
        Counter.builder("tern.broker.recovery").description("Route retries, restores after a Redis outage and "
                        + "evictions of sessions that moved, by event")
                .tag("event", event).register(registry).increment();
    }
}
