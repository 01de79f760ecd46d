package io.tern.broker.delivery;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Sessions;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

class PushCommandHandlerTest {
    private static final Frame.Push PUSH = new Frame.Push(9, 1_800_000_000_000L, PayloadKind.DATA, new byte[]{'{', '}'});

    private SimpleMeterRegistry registry;
    private Sessions sessions;
    private EmbeddedChannel internal;

    @BeforeEach
    void setUp() {
        registry = new SimpleMeterRegistry();
        BrokerMetrics metrics = new BrokerMetrics(registry);
        sessions = new Sessions("b1", 1L, 16);
        internal = new EmbeddedChannel(new PushCommandHandler("b1", sessions,
                new Disconnects(metrics, Duration.ofSeconds(1)), metrics));
    }

    private Frame.PushResult result() {
        return assertInstanceOf(Frame.PushResult.class, internal.readOutbound());
    }

    @Test
    void aConnectedDeviceGetsThePushAndTheCommandIsWritten() {
        EmbeddedChannel device = new EmbeddedChannel();
        sessions.open("app", "r1", device);
        internal.writeInbound(new Frame.PushCommand(5, "app", "r1", PUSH));
        assertEquals(PUSH, device.readOutbound());
        assertEquals(new Frame.PushResult(5, PushOutcome.WRITTEN), result());
        assertEquals(1.0, registry.get("tern.broker.pushes.written").tag("source", "command").counter().count());
    }

    @Test
    void anUnknownDeviceIsNotConnected() {
        internal.writeInbound(new Frame.PushCommand(6, "app", "nobody", PUSH));
        assertEquals(new Frame.PushResult(6, PushOutcome.NOT_CONNECTED), result());
    }

    @Test
    void aClosedDeviceIsNotConnected() {
        EmbeddedChannel device = new EmbeddedChannel();
        sessions.open("app", "r1", device);
        device.close();
        internal.writeInbound(new Frame.PushCommand(7, "app", "r1", PUSH));
        assertEquals(new Frame.PushResult(7, PushOutcome.NOT_CONNECTED), result());
    }

    @Test
    void anUnwritableDeviceIsBackpressure() {
        EmbeddedChannel device = new EmbeddedChannel();
        device.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        device.write(Unpooled.wrappedBuffer(new byte[64])); // written, not flushed: over the high mark
        assertFalse(device.isWritable());
        sessions.open("app", "r1", device);
        internal.writeInbound(new Frame.PushCommand(8, "app", "r1", PUSH));
        assertEquals(new Frame.PushResult(8, PushOutcome.BACKPRESSURE), result());
    }

    @Test
    void aDeviceFrameOnTheInternalPortIsAProtocolViolation() {
        internal.writeInbound(new Frame.Connect("a", "r", "t", 0));
        Frame.Disconnect d = assertInstanceOf(Frame.Disconnect.class, internal.readOutbound());
        assertEquals(ReasonCode.PROTOCOL_VIOLATION, d.reason());
        assertFalse(internal.isOpen());
        assertNull(internal.readOutbound());
    }
}
