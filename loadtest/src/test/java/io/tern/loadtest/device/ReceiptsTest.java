package io.tern.loadtest.device;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ReceiptsTest {
    private static String broadcast(long k) {
        return "{\"k\":" + k + ",\"t\":1}";
    }

    private static long receive(Receipts r, String payload, int online) {
        return r.onMessage(payload, System.nanoTime(), online);
    }

    @Test
    void theReceiptThatReachesTheOnlineDevicesCompletesTheBroadcastOnce() {
        Receipts r = new Receipts();
        assertEquals(-1, receive(r, broadcast(4), 3));
        assertEquals(-1, receive(r, broadcast(4), 3));
        assertEquals(4, receive(r, broadcast(4), 3));
        assertEquals(-1, receive(r, broadcast(4), 3), "said once");
        assertEquals(-1, receive(r, broadcast(5), 3), "other broadcasts count on their own");
        assertEquals(List.of(), r.completeNow(3));
    }

    @Test
    void aBroadcastCompletesLaterWhenADeviceThatMissedItWentOffline() {
        Receipts r = new Receipts();
        receive(r, broadcast(1), 3);
        receive(r, broadcast(1), 3);
        receive(r, broadcast(2), 3);
        assertEquals(List.of(1L), r.completeNow(2));
        assertEquals(List.of(), r.completeNow(2), "said once");
    }

    @Test
    void singlePushesCompleteNothingAndResetForgetsWhatWasSaid() {
        Receipts r = new Receipts();
        assertEquals(-1, receive(r, "{\"t\":1}", 1));
        assertEquals(7, receive(r, broadcast(7), 1));
        r.reset();
        assertEquals(7, receive(r, broadcast(7), 1), "a new run of the same number is new");
    }
}
