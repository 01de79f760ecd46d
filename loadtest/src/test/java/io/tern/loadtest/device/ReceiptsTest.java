package io.tern.loadtest.device;

import io.tern.client.PushMessage;
import io.tern.protocol.frame.PayloadKind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ReceiptsTest {
    private long msgId;

    private PushMessage broadcast(long k) {
        return new PushMessage(++msgId, PayloadKind.DATA, "{\"k\":" + k + ",\"t\":1}", 0, System.nanoTime());
    }

    @Test
    void theReceiptThatReachesTheOnlineDevicesCompletesTheBroadcastOnce() {
        Receipts r = new Receipts();
        assertEquals(-1, r.onMessage(broadcast(4), 3));
        assertEquals(-1, r.onMessage(broadcast(4), 3));
        assertEquals(4, r.onMessage(broadcast(4), 3));
        assertEquals(-1, r.onMessage(broadcast(4), 3), "said once");
        assertEquals(-1, r.onMessage(broadcast(5), 3), "other broadcasts count on their own");
        assertEquals(List.of(), r.completeNow(3));
    }

    @Test
    void aBroadcastCompletesLaterWhenADeviceThatMissedItWentOffline() {
        Receipts r = new Receipts();
        r.onMessage(broadcast(1), 3);
        r.onMessage(broadcast(1), 3);
        r.onMessage(broadcast(2), 3);
        assertEquals(List.of(1L), r.completeNow(2));
        assertEquals(List.of(), r.completeNow(2), "said once");
    }

    @Test
    void singlePushesCompleteNothingAndResetForgetsWhatWasSaid() {
        Receipts r = new Receipts();
        assertEquals(-1, r.onMessage(new PushMessage(1, PayloadKind.DATA, "{\"t\":1}", 0, System.nanoTime()), 1));
        assertEquals(7, r.onMessage(broadcast(7), 1));
        r.reset();
        assertEquals(7, r.onMessage(broadcast(7), 1), "a new run of the same number is new");
    }
}
