package io.tern.store.diskkv;

import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.NewMessage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class QueuedMessageTest {
    @Test
    void roundTripsThroughJsonAndBackToTheAcceptedMessage() {
        NewMessage m = new NewMessage(42, "app", "reg", PayloadKind.DATA, "{\"k\":\"v\"}", 1000, 61_000, "req-1",
                "http://cb", "p");
        QueuedMessage q = QueuedMessage.fromJson(QueuedMessage.of(m).toJson());
        assertEquals(QueuedMessage.of(m), q);
        assertEquals(m, q.toNewMessage());
    }

    @Test
    void ignoresFieldsAWriterAddedAndRefusesWhatIsNotAMessage() {
        QueuedMessage q = QueuedMessage.fromJson("{\"msgId\":7,\"appId\":\"a\",\"regId\":\"r\",\"kind\":1,"
                + "\"payload\":\"{}\",\"createdAt\":1,\"expiresAt\":2,\"newField\":true}");
        assertEquals(7, q.msgId());
        assertEquals(PayloadKind.NOTIFICATION, q.payloadKind());
        assertNull(QueuedMessage.fromJson("not json"));
        assertNull(QueuedMessage.fromJson("{\"msgId\":7}"));
        assertNull(QueuedMessage.fromJson(null));
    }
}
