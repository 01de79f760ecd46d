package io.tern.broker.metrics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.protocol.frame.FrameType;
import io.tern.store.registry.DeliveryStats;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeliveryMeterTest {
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final DeliveryMeter meter = new DeliveryMeter(nanos::get);

    private void advanceMillis(long ms) {
        nanos.addAndGet(ms * 1_000_000);
    }

    @Test
    void theRateIsTheLastSecondsDeliveriesAndTheTotalKeepsEverything() {
        for (int i = 0; i < 10; i++) {
            meter.delivered(50); // 10 buckets of 50: 500 in the last second
            advanceMillis(100);
        }
        assertEquals(500.0, meter.perSecond(), 1e-9);
        assertEquals(500, meter.total());

        advanceMillis(500);
        assertEquals(250.0, meter.perSecond(), 1e-9, "half of the window has aged out");
        advanceMillis(600);
        assertEquals(0.0, meter.perSecond(), 1e-9, "nothing delivered for a second");
        assertEquals(500, meter.total());
        assertEquals(new DeliveryStats(500, 0.0, 20_000), meter.snapshot(20_000));
    }

    @Test
    void theBucketBeingFilledIsNotReadSoAPartialBucketDoesNotSkewTheRate() {
        meter.delivered(1000);
        assertEquals(0.0, meter.perSecond(), 1e-9);
        advanceMillis(100);
        assertEquals(1000.0, meter.perSecond(), 1e-9);
    }

    @Test
    void aBucketReusedAfterTheRingWrapsStartsFromZero() {
        meter.delivered(700);
        advanceMillis(1200); // the same ring slot, a later 100 ms
        meter.delivered(3);
        advanceMillis(100);
        assertEquals(3.0, meter.perSecond(), 1e-9);
    }

    @Test
    void devicePushesAndBroadcastCopiesCountInternalFramesDoNot() {
        BrokerMetrics metrics = new BrokerMetrics(new SimpleMeterRegistry());
        metrics.frameOut(BrokerMetrics.Listener.TCP, FrameType.PUSH);
        metrics.frameOut(BrokerMetrics.Listener.WS, FrameType.PUSH);
        metrics.frameOut(BrokerMetrics.Listener.TCP, FrameType.PONG);
        metrics.frameOut(BrokerMetrics.Listener.INTERNAL, FrameType.PUSH_RESULT);
        metrics.broadcastDeliveries(40, 7);
        metrics.broadcastParkedOutcome(5, 2);
        assertEquals(2 + 40 + 5, metrics.deliveries().total());
        assertEquals(47.0, metrics.registry().get("tern.broker.deliveries").functionCounter().count());
    }
}
