package io.tern.protocol.frame;

import io.tern.protocol.codec.FrameHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The numbers here are the wire contract. A failure means a released code was changed: add a
 * new constant with a new number instead (and add it here).
 */
class WireCodesTest {

    @Test
    void frameTypeCodesAreStable() {
        Map<FrameType, Integer> expected = new LinkedHashMap<>();
        expected.put(FrameType.CONNECT, 0x01);
        expected.put(FrameType.CONNACK, 0x02);
        expected.put(FrameType.PING, 0x03);
        expected.put(FrameType.PONG, 0x04);
        expected.put(FrameType.PUSH, 0x05);
        expected.put(FrameType.ACK, 0x06);
        expected.put(FrameType.REDIRECT, 0x07);
        expected.put(FrameType.DISCONNECT, 0x08);
        expected.put(FrameType.SUBSCRIBE, 0x09);
        expected.put(FrameType.UNSUBSCRIBE, 0x0A);
        expected.put(FrameType.ACKS, 0x0B);
        expected.put(FrameType.PUSH_COMMAND, 0x40);
        expected.put(FrameType.PUSH_RESULT, 0x41);
        expected.put(FrameType.PUSH_BATCH, 0x42);
        expected.put(FrameType.PUSH_BATCH_RESULT, 0x43);
        expected.put(FrameType.BROADCAST, 0x44);
        expected.put(FrameType.BROADCAST_RESULT, 0x45);
        expected.put(FrameType.LINK_CHALLENGE, 0x46);
        expected.put(FrameType.LINK_AUTH, 0x47);
        expected.put(FrameType.LINK_ACCEPT, 0x48);
        assertCodes(expected, FrameType.values(), FrameType::code);
        for (FrameType t : FrameType.values()) {
            assertEquals(t, FrameType.fromCode(t.code()));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0x00, 0x0C, 0x3F, 0x49, 0xFF, 0x100, Integer.MAX_VALUE})
    void unassignedFrameTypeCodesAreNull(int code) {
        assertNull(FrameType.fromCode(code));
    }

    @Test
    void reasonCodesAreStable() {
        Map<ReasonCode, Integer> expected = new LinkedHashMap<>();
        expected.put(ReasonCode.OK, 0);
        expected.put(ReasonCode.UNSUPPORTED_VERSION, 1);
        expected.put(ReasonCode.MALFORMED_FRAME, 2);
        expected.put(ReasonCode.FRAME_TOO_LARGE, 3);
        expected.put(ReasonCode.UNKNOWN_FRAME_TYPE, 4);
        expected.put(ReasonCode.PROTOCOL_VIOLATION, 5);
        expected.put(ReasonCode.HANDSHAKE_TIMEOUT, 6);
        expected.put(ReasonCode.TOKEN_INVALID, 7);
        expected.put(ReasonCode.TOKEN_EXPIRED, 8);
        expected.put(ReasonCode.SESSION_REPLACED, 9);
        expected.put(ReasonCode.IDLE_TIMEOUT, 10);
        expected.put(ReasonCode.SERVER_SHUTTING_DOWN, 11);
        expected.put(ReasonCode.REGION_MOVED, 12);
        expected.put(ReasonCode.SERVER_BUSY, 13);
        expected.put(ReasonCode.INTERNAL_ERROR, 14);
        expected.put(ReasonCode.AUTH_FAILED, 15);
        assertCodes(expected, ReasonCode.values(), ReasonCode::code);
        for (ReasonCode r : ReasonCode.values()) {
            assertEquals(r, ReasonCode.fromCode(r.code()));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 16, 100, 0xFFFF, Integer.MAX_VALUE, Integer.MIN_VALUE})
    void unknownReasonCodesMapToInternalError(int code) {
        assertEquals(ReasonCode.INTERNAL_ERROR, ReasonCode.fromCode(code));
    }

    @Test
    void groupPushLimitsAreStable() {
        assertEquals(64, Tags.MAX_PER_FRAME);
        assertEquals(64, Tags.MAX_LENGTH);
        assertEquals(1000, Frame.PushBatch.MAX_REG_IDS);
    }

    @Test
    void cumulativeAckLimitsAreStable() {
        assertEquals(512, Frame.Acks.MAX_IDS);
        assertEquals(0xFFFF, Frame.ConnAck.MAX_BROADCAST_ACK_DELAY_MS);
    }

    @Test
    void payloadKindCodesAreStable() {
        Map<PayloadKind, Integer> expected = new LinkedHashMap<>();
        expected.put(PayloadKind.NOTIFICATION, 1);
        expected.put(PayloadKind.DATA, 2);
        assertCodes(expected, PayloadKind.values(), PayloadKind::code);
        for (PayloadKind k : PayloadKind.values()) {
            assertEquals(k, PayloadKind.fromCode(k.code()));
        }
        assertNull(PayloadKind.fromCode(0));
        assertNull(PayloadKind.fromCode(3));
    }

    @Test
    void pushOutcomeCodesAreStable() {
        Map<PushOutcome, Integer> expected = new LinkedHashMap<>();
        expected.put(PushOutcome.WRITTEN, 0);
        expected.put(PushOutcome.NOT_CONNECTED, 1);
        expected.put(PushOutcome.BACKPRESSURE, 2);
        assertCodes(expected, PushOutcome.values(), PushOutcome::code);
        for (PushOutcome o : PushOutcome.values()) {
            assertEquals(o, PushOutcome.fromCode(o.code()));
        }
        assertNull(PushOutcome.fromCode(3));
        assertNull(PushOutcome.fromCode(-1));
    }

    @Test
    void headerLayoutIsStable() {
        assertEquals(8, FrameHeader.SIZE);
        assertEquals(1, FrameHeader.VERSION);
        assertEquals(0, FrameHeader.VERSION_OFFSET);
        assertEquals(1, FrameHeader.TYPE_OFFSET);
        assertEquals(2, FrameHeader.FLAGS_OFFSET);
        assertEquals(4, FrameHeader.LENGTH_OFFSET);
        assertEquals(8 * 1024, FrameHeader.DEFAULT_MAX_BODY);
        assertEquals(1024 * 1024, FrameHeader.ABSOLUTE_MAX_BODY);
        assertEquals(256 * 1024, FrameHeader.INTERNAL_MAX_BODY);
        assertEquals(0x0001, FrameHeader.FLAG_BROADCAST);
        assertEquals(0x0002, FrameHeader.FLAG_COUNT_ACKS);
        assertEquals(0x0004, FrameHeader.FLAG_ACKS);
    }

    private static <E extends Enum<E>> void assertCodes(Map<E, Integer> expected, E[] values,
                                                        java.util.function.ToIntFunction<E> code) {
        assertEquals(expected.size(), values.length, "a constant was added or removed: update this contract test");
        for (E e : values) {
            assertEquals(expected.get(e), code.applyAsInt(e), e.name());
        }
    }
}
