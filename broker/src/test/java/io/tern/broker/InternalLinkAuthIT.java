package io.tern.broker;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.link.LinkProof;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The internal port against a real broker (real Redis and Kafka): a peer that does not prove
 * the cluster secret gets DISCONNECT AUTH_FAILED and none of its frames reaches a device. Absence
 * is shown by order, not by waiting: after each refused attempt an authenticated link pushes a
 * marker, and the marker must be the device's next frame.
 */
class InternalLinkAuthIT {
    private static final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private static Broker broker;
    private static FrameClient logic;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        broker = Broker.start(TestBrokers.config(Map.of("broker.link-auth-timeout", "500ms")));
        logic = FrameClient.internal(broker.internalAddress());
    }

    @AfterAll
    static void stop() {
        if (logic != null) {
            logic.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static Frame.Push push(String body) {
        return new Frame.Push(ids.incrementAndGet(), System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                body.getBytes(StandardCharsets.UTF_8));
    }

    private static FrameClient device(String app, String reg) {
        FrameClient d = FrameClient.tcp(broker.tcpAddress());
        d.connect(app, reg, TestBrokers.token(app, reg));
        return d;
    }

    /** The device's next frame is a marker pushed over the authenticated link: nothing came before it. */
    private static void assertNextIsMarker(FrameClient device, String app, String reg) {
        Frame.Push marker = push("{\"marker\":true}");
        long id = ids.incrementAndGet();
        logic.send(new Frame.PushCommand(id, app, reg, marker));
        assertEquals(new Frame.PushResult(id, PushOutcome.WRITTEN), logic.expect(Frame.PushResult.class));
        assertEquals(marker, device.expect(Frame.Push.class), "the refused peer's push must not have reached the device");
    }

    @Test
    void aPushCommandWithoutTheHandshakeIsDisconnectedAndReachesNoDevice() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = device(app, "r1");
             FrameClient intruder = FrameClient.tcp(broker.internalAddress())) {
            intruder.expect(Frame.LinkChallenge.class);
            intruder.send(new Frame.PushCommand(1, app, "r1", push("{\"forged\":1}")));
            intruder.expectDisconnect(ReasonCode.AUTH_FAILED);
            assertNextIsMarker(device, app, "r1");
        }
    }

    @Test
    void aBroadcastWithoutTheHandshakeIsDisconnectedAndReachesNoDevice() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = device(app, "r1");
             FrameClient intruder = FrameClient.tcp(broker.internalAddress())) {
            intruder.expect(Frame.LinkChallenge.class);
            intruder.sendTogether(new Frame.Broadcast(1, app, push("{\"forged\":2}").withBroadcastSeq(1)),
                    new Frame.PushBatch(2, app, push("{\"forged\":3}"), List.of("r1")));
            intruder.expectDisconnect(ReasonCode.AUTH_FAILED);
            assertNextIsMarker(device, app, "r1");
        }
    }

    @Test
    void aWrongSecretIsDisconnectedAndItsFollowingCommandsAreNotActedOn() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = device(app, "r1");
             FrameClient intruder = FrameClient.tcp(broker.internalAddress())) {
            Frame.LinkChallenge challenge = intruder.expect(Frame.LinkChallenge.class);
            LinkProof wrong = new LinkProof("not-the-cluster-secret-at-all");
            byte[] nonce = LinkProof.nonce();
            intruder.sendTogether(new Frame.LinkAuth("evil", nonce, wrong.peerProof(challenge.nonce(), nonce, "evil")),
                    new Frame.PushCommand(3, app, "r1", push("{\"forged\":4}")));
            intruder.expectDisconnect(ReasonCode.AUTH_FAILED);
            assertNextIsMarker(device, app, "r1");
        }
    }

    @Test
    void aProofForAnotherLinksNonceIsRefused() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = device(app, "r1");
             FrameClient intruder = FrameClient.tcp(broker.internalAddress())) {
            intruder.expect(Frame.LinkChallenge.class);
            // A proof made with the right secret, but over a nonce this link was never given (a replay).
            LinkProof right = new LinkProof(TestBrokers.CLUSTER_SECRET);
            byte[] nonce = LinkProof.nonce();
            intruder.send(new Frame.LinkAuth("replayer", nonce, right.peerProof(LinkProof.nonce(), nonce, "replayer")));
            intruder.expectDisconnect(ReasonCode.AUTH_FAILED);
            assertNextIsMarker(device, app, "r1");
        }
    }

    @Test
    void aPeerThatNeverAnswersIsDisconnectedAtTheAuthTimeout() {
        try (FrameClient silent = FrameClient.tcp(broker.internalAddress())) {
            silent.expect(Frame.LinkChallenge.class);
            silent.expectDisconnect(ReasonCode.AUTH_FAILED);
        }
    }

    @Test
    void anAuthenticatedLinkDeliversAndRefusalsAreCounted() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = device(app, "r1");
             FrameClient node = FrameClient.internal(broker.internalAddress())) {
            Frame.Push p = push("{\"ok\":1}");
            node.send(new Frame.PushCommand(9, app, "r1", p));
            assertEquals(new Frame.PushResult(9, PushOutcome.WRITTEN), node.expect(Frame.PushResult.class));
            assertEquals(p, device.expect(Frame.Push.class));
        }
        try (FrameClient intruder = FrameClient.tcp(broker.internalAddress())) {
            intruder.expect(Frame.LinkChallenge.class);
            double before = broker.observability().registry().get("tern.broker.links.refused").counter().count();
            intruder.send(Frame.Ping.INSTANCE);
            intruder.expectDisconnect(ReasonCode.AUTH_FAILED);
            assertEquals(before + 1, broker.observability().registry().get("tern.broker.links.refused").counter().count());
        }
    }
}
