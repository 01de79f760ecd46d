package io.tern.client;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.tern.client.dispatch.DeviceCredentials;
import io.tern.client.net.EventLoops;
import io.tern.client.testing.RecordingListener;
import io.tern.client.testing.StubBroker;
import io.tern.client.testing.StubDispatcher;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.RetryAfter;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client against an in-test broker (Netty, protocol codec) and an in-test dispatcher (JDK HTTP server). */
class TernClientTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static EventLoopGroup serverGroup;
    private static HttpClient http;

    private StubDispatcher dispatcher;
    private StubBroker broker;
    private final RecordingListener listener = new RecordingListener();
    private final List<TernClient> clients = new ArrayList<>();

    @BeforeAll
    static void startGroup() {
        serverGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stopGroup() {
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @BeforeEach
    void startStubs() throws Exception {
        dispatcher = new StubDispatcher();
        broker = StubBroker.tcp(serverGroup);
        dispatcher.brokers(broker.address());
    }

    @AfterEach
    void stopAll() {
        clients.forEach(TernClient::close);
        broker.close();
        dispatcher.close();
    }

    private TernClient.Builder builder() {
        return TernClient.builder()
                .dispatcher(dispatcher.uri())
                .appId("demo").credentials(StubDispatcher.credentials("demo", "dev-1"))
                .listener(listener)
                .httpClient(http)
                .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(100));
    }

    private TernClient start(TernClient.Builder b) {
        TernClient client = b.build();
        clients.add(client);
        client.start();
        return client;
    }

    private static ConditionFactory await() {
        return Awaitility.await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    @Test
    void connectsReceivesPushesAndAcksThem() {
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        assertEquals(TernClient.State.CONNECTED, client.state());
        assertEquals(broker.address(), client.connectedBroker());
        await().until(() -> listener.connected().equals(List.of(broker.address())));
        Frame.Connect connect = broker.connects().get(0);
        assertEquals("demo", connect.appId());
        assertEquals("dev-1", connect.regId());
        assertEquals("token-1", connect.token());

        broker.push(new Frame.Push(1, 0, PayloadKind.NOTIFICATION,
                "{\"title\":\"hi\",\"body\":\"there\"}".getBytes(StandardCharsets.UTF_8)));
        broker.push(2, "{\"n\":2}");
        broker.push(3, "{\"n\":3}");

        await().until(() -> listener.messages().size() == 3);
        assertEquals(List.of(1L, 2L, 3L), listener.msgIds());
        PushMessage first = listener.messages().get(0);
        assertEquals(PayloadKind.NOTIFICATION, first.kind());
        assertEquals("{\"title\":\"hi\",\"body\":\"there\"}", first.payload());
        await().until(() -> broker.acks().equals(List.of(1L, 2L, 3L)));
        assertEquals(3, client.stats().messagesReceived());

        broker.push(2, "{\"n\":2}"); // a resend: acked again, not delivered again
        await().until(() -> broker.acks().size() == 4);
        assertEquals(3, listener.messages().size());
        assertEquals(1, client.stats().duplicatesDropped());
    }

    @Test
    void serverBusyWithARetryHintWaitsThatLongThenReDispatchesInsteadOfTryingTheNextAddress() throws Exception {
        try (StubBroker otherRegion = StubBroker.tcp(serverGroup)) {
            dispatcher.brokers(broker.address(), otherRegion.address());
            List<Long> connectNanos = new CopyOnWriteArrayList<>();
            broker.onConnect(c -> {
                connectNanos.add(System.nanoTime());
                return connectNanos.size() == 1
                        ? new Frame.Disconnect(ReasonCode.SERVER_BUSY, RetryAfter.append("admission limit", 400))
                        : new Frame.ConnAck(30, System.currentTimeMillis());
            });
            TernClient client = start(builder());
            assertTrue(client.awaitConnected(WAIT));
            assertEquals(broker.address(), client.connectedBroker());
            assertEquals(2, connectNanos.size());
            assertTrue(connectNanos.get(1) - connectNanos.get(0) >= TimeUnit.MILLISECONDS.toNanos(400),
                    "waited the hinted 400 ms: " + (connectNanos.get(1) - connectNanos.get(0)) / 1_000_000 + " ms");
            assertEquals(2, dispatcher.requests(), "asked the dispatcher again");
            assertTrue(otherRegion.connects().isEmpty(), "did not move on to the next address (another region)");
            assertEquals(1, client.stats().busyWaits());
        }
    }

    @Test
    void serverBusyWithoutAHintStillMovesOnToTheNextAddress() throws Exception {
        try (StubBroker second = StubBroker.tcp(serverGroup)) {
            dispatcher.brokers(broker.address(), second.address());
            broker.onConnect(c -> new Frame.Disconnect(ReasonCode.SERVER_BUSY, "broker is at its connection limit"));
            TernClient client = start(builder());
            assertTrue(client.awaitConnected(WAIT));
            assertEquals(second.address(), client.connectedBroker());
            assertEquals(1, dispatcher.requests());
            assertEquals(0, client.stats().busyWaits());
        }
    }

    @Test
    void registersOnceThenKeepsItsCredentialsInTheStoreAndSignsEveryDispatch() {
        CredentialStore store = CredentialStore.inMemory();
        List<String> registered = new CopyOnWriteArrayList<>();
        PushListener onRegistered = new PushListener() {
            @Override
            public void onMessage(PushMessage message) {
            }

            @Override
            public void onRegistered(String regId) {
                registered.add(regId);
            }
        };
        TernClient first = start(builder().credentials(null).clientKey(StubDispatcher.CLIENT_KEY)
                .credentialStore(store).listener(onRegistered));
        assertTrue(first.awaitConnected(WAIT));
        assertEquals(1, dispatcher.registrations());
        assertEquals("stub-device-1", first.regId());
        await().until(() -> registered.equals(List.of("stub-device-1")));
        assertEquals(StubDispatcher.credentials("demo", "stub-device-1"), store.load(), "saved for the next run");
        assertEquals("stub-device-1", broker.connects().get(0).regId());
        assertEquals(0, dispatcher.refused(), "the dispatch was signed with the issued secret");
        first.close();

        // The next run of the app: the same store, no new registration, the same regId.
        TernClient second = start(builder().credentials(null).clientKey(StubDispatcher.CLIENT_KEY)
                .credentialStore(store).listener(onRegistered));
        assertTrue(second.awaitConnected(WAIT));
        assertEquals(1, dispatcher.registrations());
        assertEquals("stub-device-1", second.regId());
        assertEquals(List.of("stub-device-1"), registered, "onRegistered only for a new registration");
        assertEquals(0, second.stats().registrations());
    }

    @Test
    void aWrongClientKeyNeverRegistersNorConnects() {
        TernClient client = start(builder().credentials(null).clientKey("not-the-client-key"));
        await().until(() -> client.stats().registrationFailures() >= 2);
        assertEquals(0, dispatcher.registrations());
        assertEquals(null, client.regId());
        assertEquals(0, dispatcher.requests(), "no dispatch without credentials");
        assertTrue(broker.connects().isEmpty());
    }

    @Test
    void credentialsWithAnotherDevicesSecretAreRefusedAtDispatch() {
        DeviceCredentials impostor = new DeviceCredentials("dev-1",
                StubDispatcher.credentials("demo", "dev-2").deviceSecret());
        TernClient client = start(builder().credentials(impostor));
        await().until(() -> client.stats().dispatchFailures() >= 2);
        assertTrue(dispatcher.refused() >= 2);
        assertTrue(broker.connects().isEmpty());
    }

    @Test
    void expiredPushIsAckedButNotDelivered() {
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        broker.push(new Frame.Push(5, System.currentTimeMillis() - 1000, PayloadKind.DATA, "{}".getBytes(StandardCharsets.UTF_8)));
        broker.push(6, "{}");
        await().until(() -> broker.acks().equals(List.of(5L, 6L)));
        assertEquals(List.of(6L), listener.msgIds());
        assertEquals(1, client.stats().expiredDropped());
    }

    @Test
    void refusedFirstAddressFallsThroughToTheSecond() throws IOException {
        String refused = "127.0.0.1:" + freePort();
        dispatcher.brokers(refused, broker.address());
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        assertEquals(broker.address(), client.connectedBroker());
        assertEquals(1, dispatcher.requests());
        assertEquals(1, client.stats().connectFailures());
        assertEquals(2, client.stats().connectAttempts());
    }

    @Test
    void exhaustedListMeansRedispatchWithBackoff() throws IOException {
        String refused = "127.0.0.1:" + freePort();
        dispatcher.brokers(refused);
        TernClient client = start(builder());
        await().until(() -> dispatcher.requests() >= 3);
        assertFalse(client.awaitConnected(Duration.ofMillis(1)));
        dispatcher.brokers(broker.address());
        assertTrue(client.awaitConnected(WAIT));
    }

    @Test
    void reconnectsAfterTheServerClosesAndGetsANewerPush() {
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        broker.push(1, "{\"n\":1}");
        await().until(() -> listener.msgIds().equals(List.of(1L)));

        broker.closeSession();
        await().until(() -> broker.connects().size() == 2 && client.state() == TernClient.State.CONNECTED);
        broker.push(2, "{\"n\":2}");
        await().until(() -> listener.msgIds().equals(List.of(1L, 2L)));
        await().until(() -> broker.acks().equals(List.of(1L, 2L)));
        assertEquals(1, client.stats().reconnects());
        assertEquals(2, client.stats().connects());
        assertEquals(1, dispatcher.requests()); // the token was still good: same broker, no re-dispatch
        assertEquals(1, listener.disconnected().size());
        assertNull(listener.disconnected().get(0).reason()); // lost without a DISCONNECT
    }

    @Test
    void lastBroadcastSeqFollowsTheHighestBroadcastAndIsSentOnReconnect() {
        TernClient client = start(builder().lastBroadcastSeq(4));
        assertTrue(client.awaitConnected(WAIT));
        assertEquals(4L, broker.connects().get(0).lastBroadcastSeq(), "the persisted value goes in the first CONNECT");
        byte[] json = "{}".getBytes(StandardCharsets.UTF_8);
        broker.push(new Frame.Push(10, 0, PayloadKind.DATA, json, 7));
        broker.push(new Frame.Push(11, 0, PayloadKind.DATA, json, 5)); // an older one arriving late
        broker.push(new Frame.Push(10, 0, PayloadKind.DATA, json, 7)); // a duplicate still counts as seen
        broker.push(12, "{}"); // not a broadcast
        await().until(() -> broker.acks().size() == 4);
        assertEquals(7L, client.lastBroadcastSeq());
        assertEquals(List.of(10L, 11L, 12L), listener.msgIds());

        broker.closeSession();
        await().until(() -> broker.connects().size() == 2 && client.state() == TernClient.State.CONNECTED);
        assertEquals(7L, broker.connects().get(1).lastBroadcastSeq());
    }

    @Test
    void aBroadcastsSequenceIsKeptBeforeTheListenerSeesIt() {
        AtomicReference<TernClient> self = new AtomicReference<>();
        List<Long> seenInListener = new CopyOnWriteArrayList<>();
        TernClient client = builder().listener(new PushListener() {
            @Override
            public void onMessage(PushMessage message) {
                seenInListener.add(self.get().lastBroadcastSeq()); // what an app persisting it here would keep
            }
        }).build();
        self.set(client);
        clients.add(client);
        client.start();
        assertTrue(client.awaitConnected(WAIT));
        byte[] json = "{}".getBytes(StandardCharsets.UTF_8);
        broker.push(new Frame.Push(20, 0, PayloadKind.DATA, json, 3));
        broker.push(new Frame.Push(21, 0, PayloadKind.DATA, json, 4));
        await().until(() -> seenInListener.size() == 2);
        assertEquals(List.of(3L, 4L), seenInListener);
    }

    @Test
    void tagChangesWaitForTheConnectionAndKeepTheirOrder() {
        broker.onConnect(c -> new Frame.ConnAck(30, System.currentTimeMillis()));
        TernClient client = builder().build();
        clients.add(client);
        client.subscribe("news", "city:berlin");
        client.unsubscribe("news");
        assertThrows(IllegalArgumentException.class, () -> client.subscribe());
        assertThrows(IllegalArgumentException.class, () -> client.subscribe("no spaces"));
        assertThrows(IllegalArgumentException.class, () -> client.subscribe("x".repeat(65)));
        client.start();
        assertTrue(client.awaitConnected(WAIT));
        await().until(() -> tagFrames().size() == 2);
        assertEquals(List.of(new Frame.Subscribe(List.of("news", "city:berlin")), new Frame.Unsubscribe(List.of("news"))),
                tagFrames());

        client.subscribe("sports");
        await().until(() -> tagFrames().size() == 3);
        assertEquals(new Frame.Subscribe(List.of("sports")), tagFrames().get(2));
    }

    @Test
    void tagChangesHeldWhileDisconnectedAreBounded() {
        TernClient client = builder().build();
        clients.add(client);
        for (int i = 0; i < TernClient.MAX_PENDING_TAG_CHANGES; i++) {
            client.subscribe("t" + i);
        }
        assertThrows(IllegalStateException.class, () -> client.subscribe("one-too-many"));
    }

    private List<Frame> tagFrames() {
        return broker.received().stream()
                .filter(f -> f instanceof Frame.Subscribe || f instanceof Frame.Unsubscribe).toList();
    }

    @Test
    void tokenExpiredDisconnectMakesTheClientRedispatch() {
        broker.onConnect(c -> c.token().equals("token-1")
                ? new Frame.Disconnect(ReasonCode.TOKEN_EXPIRED, "expired")
                : new Frame.ConnAck(30, System.currentTimeMillis()));
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        assertEquals(2, dispatcher.requests());
        assertEquals(2, client.stats().dispatches());
        assertEquals(List.of("token-1", "token-2"), broker.connects().stream().map(Frame.Connect::token).toList());
    }

    @Test
    void serverShuttingDownWhileConnectedMakesTheClientRedispatch() {
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        broker.sendAndClose(new Frame.Disconnect(ReasonCode.SERVER_SHUTTING_DOWN, "bye"));
        await().until(() -> dispatcher.requests() == 2 && client.state() == TernClient.State.CONNECTED);
        assertEquals(ReasonCode.SERVER_SHUTTING_DOWN, listener.disconnected().get(0).reason());
    }

    @Test
    void sessionReplacedStopsTheClient() {
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        broker.sendAndClose(new Frame.Disconnect(ReasonCode.SESSION_REPLACED, "newer session"));
        await().until(() -> client.state() == TernClient.State.CLOSED);
        assertEquals(ReasonCode.SESSION_REPLACED, listener.disconnected().get(0).reason());
        assertFalse(client.awaitConnected(Duration.ofMillis(200)));
        assertEquals(1, broker.connects().size());
        assertEquals(1, dispatcher.requests());
        assertEquals(0, client.stats().reconnects());
    }

    @Test
    void redirectMovesTheClientToTheNamedBroker() throws Exception {
        try (StubBroker other = StubBroker.tcp(serverGroup)) {
            TernClient client = start(builder());
            assertTrue(client.awaitConnected(WAIT));
            broker.sendAndClose(new Frame.Redirect(ReasonCode.REGION_MOVED, List.of(other.address())));
            await().until(() -> other.address().equals(client.connectedBroker()));
            other.push(9, "{}");
            await().until(() -> listener.msgIds().equals(List.of(9L)));
            assertEquals(1, dispatcher.requests());
            await().until(() -> listener.connected().equals(List.of(broker.address(), other.address())));
        }
    }

    @Test
    void dispatcherErrorIsRetriedWithBackoff() {
        dispatcher.statusFor(n -> n == 1 ? 503 : 200);
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        assertEquals(2, dispatcher.requests());
        assertEquals(1, client.stats().dispatchFailures());
    }

    @Test
    void heartbeatPingsAtTheConnAckInterval() {
        broker.onConnect(c -> new Frame.ConnAck(1, System.currentTimeMillis()));
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        await().until(() -> broker.received().contains(Frame.Ping.INSTANCE));
        assertEquals(TernClient.State.CONNECTED, client.state());
    }

    @Test
    void closeSaysGoodbyeAndReleasesTheOwnedLoop() {
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        client.close();
        assertEquals(TernClient.State.CLOSED, client.state());
        assertNull(client.connectedBroker());
        await().until(() -> broker.received().contains(new Frame.Disconnect(ReasonCode.OK, "client closed")));
        assertEquals(ReasonCode.OK, listener.disconnected().get(0).reason());
        assertTrue(client.closeAsync().isDone());
        assertThrows(IllegalStateException.class, client::start);
    }

    private static Frame.Push broadcast(long msgId) {
        return new Frame.Push(msgId, 0, PayloadKind.DATA, "{}".getBytes(StandardCharsets.UTF_8), msgId);
    }

    @Test
    void againstABrokerThatAnnouncesNoDelayBroadcastsAreAckedOneByOne() {
        TernClient client = start(builder()); // the stub answers as an older broker: CONNACK without ack fields
        assertTrue(client.awaitConnected(WAIT));
        assertTrue(broker.connects().get(0).cumulativeAcks(), "the SDK offers cumulative acks");
        broker.push(broadcast(1));
        broker.push(broadcast(2));
        await().until(() -> broker.acks().equals(List.of(1L, 2L)));
        assertEquals(List.of(new Frame.Ack(1), new Frame.Ack(2)),
                broker.received().stream().filter(f -> f instanceof Frame.Ack || f instanceof Frame.Acks).toList());
    }

    @Test
    void heldBroadcastAcksReachTheBrokerInOneAcksBeforeTheClientsDisconnect() {
        // A delay far beyond the test: only the close can send them.
        broker.onConnect(c -> new Frame.ConnAck(30, System.currentTimeMillis(), 60_000, 64));
        TernClient client = start(builder());
        assertTrue(client.awaitConnected(WAIT));
        broker.push(broadcast(1));
        broker.push(broadcast(2));
        await().until(() -> listener.msgIds().equals(List.of(1L, 2L)));
        assertEquals(List.of(), broker.acks());
        client.close();
        await().until(() -> broker.received().contains(new Frame.Disconnect(ReasonCode.OK, "client closed")));
        List<Frame> tail = broker.received().subList(broker.received().size() - 2, broker.received().size());
        assertEquals(List.of(new Frame.Acks(new long[] {1, 2}), new Frame.Disconnect(ReasonCode.OK, "client closed")),
                tail);
    }

    @Test
    void closeBeforeStartIsFine() {
        TernClient client = builder().build();
        client.close();
        assertEquals(TernClient.State.CLOSED, client.state());
        assertFalse(client.awaitConnected(Duration.ofMillis(10)));
    }

    @Test
    void manyClientsShareOneGroupAndASourceAddress() throws Exception {
        EventLoopGroup shared = EventLoops.newGroup(2, "shared-clients");
        InetAddress source = InetAddress.getByName("127.0.0.2");
        try {
            List<TernClient> many = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                many.add(start(builder().credentials(StubDispatcher.credentials("demo", "dev-" + i)).eventLoopGroup(shared).localAddress(source)));
            }
            for (TernClient c : many) {
                assertTrue(c.awaitConnected(WAIT));
            }
            assertEquals(50, broker.peers().size());
            assertTrue(broker.peers().stream().allMatch(p -> p.getAddress().equals(source)));
            many.forEach(TernClient::close);
            assertFalse(shared.isShuttingDown()); // not the clients' to close
        } finally {
            shared.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void listenerExceptionsDoNotStopDelivery() {
        TernClient client = start(builder().listener(m -> {
            listener.onMessage(m);
            throw new IllegalStateException("app bug");
        }));
        assertTrue(client.awaitConnected(WAIT));
        broker.push(1, "{}");
        broker.push(2, "{}");
        await().until(() -> broker.acks().equals(List.of(1L, 2L)));
        assertEquals(List.of(1L, 2L), listener.msgIds());
    }

    @Test
    void awaitConnectedOnTheEventLoopIsRefused() throws Exception {
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        TernClient[] self = new TernClient[1];
        self[0] = start(builder().listener(new PushListener() {
            @Override
            public void onMessage(PushMessage m) {
            }

            @Override
            public void onConnected(String b) {
                try {
                    self[0].awaitConnected(Duration.ofSeconds(1));
                } catch (IllegalStateException e) {
                    thrown.add(e);
                }
            }
        }));
        await().until(() -> thrown.size() == 1);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
