package io.tern.store.diskkv;

import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AsideMessageTest {
    @Test
    void anAsideRecordReadsBackAsWrittenWithoutItsRequestId() {
        NewMessage m = new NewMessage(Long.MAX_VALUE - 7, "app", "reg-1", PayloadKind.NOTIFICATION,
                "{\"title\":\"t \\\"q\\\"\",\"body\":\"b\"}", 1_000, 2_000, null, "https://cb.example/x", "p=1");
        AsideMessage a = new AsideMessage(m, MessageStatus.SENT);
        assertEquals(a, AsideMessage.fromJson(a.toJson()));
        assertEquals(MessageStatus.OFFLINE, AsideMessage.fromJson(a.withStatus(MessageStatus.OFFLINE).toJson()).status());
    }

    @Test
    void somethingElseIsRefusedAsNotAnAsideRecord() {
        assertThrows(IllegalArgumentException.class, () -> AsideMessage.fromJson("{\"msgId\":\"1\"}"));
        assertThrows(IllegalArgumentException.class, () -> AsideMessage.fromJson("not json"));
    }
}
