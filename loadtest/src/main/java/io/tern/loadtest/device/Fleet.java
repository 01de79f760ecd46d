package io.tern.loadtest.device;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.List;

/**
 * The receivers of one load-client process as {@link DeviceProcess} drives them: Tern devices ({@link TernFleet})
 * or, for the baseline, Redis pub/sub subscribers ({@link PubSubFleet}). Both count what they receive in
 * {@link Receipts}, so the runner reads them the same way.
 */
interface Fleet {
    /** Starts every receiver, paced; returns at once. */
    void connectAll();

    /** Forgets what was received so far (between a warm-up and the measured run). */
    void resetReceipts();

    /** From now on, single pushes sent in [fromMicros, toMicros) also count in latency window {@code name}. */
    void window(String name, long fromMicros, long toMicros);

    /** Counters into a {@code stats} or {@code final} line. */
    void putStats(ObjectNode n);

    /** Latency histograms into a {@code final} line. */
    void putHistograms(ObjectNode n);

    /** Broadcasts complete only now that fewer receivers are connected than when their last receipt came. */
    List<Long> broadcastsCompleteNow();

    /** Closes every receiver, waiting up to {@code timeout}; returns how many closed in time. */
    int closeAll(Duration timeout);
}
