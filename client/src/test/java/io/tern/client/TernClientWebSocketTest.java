package io.tern.client;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.tern.client.testing.RecordingListener;
import io.tern.client.testing.StubBroker;
import io.tern.client.testing.StubDispatcher;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The WebSocket transport against an in-test Netty WebSocket broker using the protocol's frame adapters. */
class TernClientWebSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @Test
    void sameFramesOverWebSocket() throws Exception {
        EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        RecordingListener listener = new RecordingListener();
        try (StubDispatcher dispatcher = new StubDispatcher();
             StubBroker broker = StubBroker.webSocket(serverGroup)) {
            dispatcher.brokers("127.0.0.1:1").wsBrokers(broker.address());
            TernClient client = TernClient.builder()
                    .dispatcher(dispatcher.uri())
                    .appId("demo").credentials(StubDispatcher.credentials("demo", "web-1"))
                    .transport(Transport.WEBSOCKET)
                    .listener(listener)
                    .build();
            try {
                client.start();
                assertTrue(client.awaitConnected(WAIT));
                assertEquals(broker.address(), client.connectedBroker());
                assertEquals("token-1", broker.connects().get(0).token());

                broker.push(1, "{\"n\":1}");
                broker.push(2, "{\"n\":2}");
                broker.push(1, "{\"n\":1}");
                Awaitility.await().atMost(WAIT).until(() -> broker.acks().equals(List.of(1L, 2L, 1L)));
                assertEquals(List.of(1L, 2L), listener.msgIds());
                assertEquals("{\"n\":2}", listener.messages().get(1).payload());

                broker.closeSession();
                Awaitility.await().atMost(WAIT).until(() -> broker.connects().size() == 2
                        && client.state() == TernClient.State.CONNECTED);
                broker.push(3, "{}");
                Awaitility.await().atMost(WAIT).until(() -> listener.msgIds().equals(List.of(1L, 2L, 3L)));
            } finally {
                client.close();
            }
            Awaitility.await().atMost(WAIT).until(() ->
                    broker.received().contains(new Frame.Disconnect(ReasonCode.OK, "client closed")));
        } finally {
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void failedUpgradeFallsThroughToTheNextAddress() throws Exception {
        EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        RecordingListener listener = new RecordingListener();
        try (StubDispatcher dispatcher = new StubDispatcher();
             StubBroker tcpOnly = StubBroker.tcp(serverGroup);
             StubBroker broker = StubBroker.webSocket(serverGroup)) {
            // A TCP-only broker does not speak HTTP: the upgrade fails and the client moves on.
            dispatcher.wsBrokers("ws://127.0.0.1:" + tcpOnly.port() + "/v1/ws", broker.address());
            TernClient client = TernClient.builder()
                    .dispatcher(dispatcher.uri())
                    .appId("demo").credentials(StubDispatcher.credentials("demo", "web-2"))
                    .transport(Transport.WEBSOCKET)
                    .listener(listener)
                    .build();
            try {
                client.start();
                assertTrue(client.awaitConnected(WAIT));
                assertEquals(broker.address(), client.connectedBroker());
                assertEquals(1, client.stats().connectFailures());
                assertEquals(1, dispatcher.requests());
            } finally {
                client.close();
            }
        } finally {
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
