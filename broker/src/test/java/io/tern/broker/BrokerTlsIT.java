package io.tern.broker;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.tern.devstack.DevCertificates;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Brokers with TLS on their device and internal ports (dev CA certificates), one refusing plain
 * connections and one accepting both on the same ports.
 */
class BrokerTlsIT {
    @TempDir
    static Path dir;
    private static DevCertificates certs;
    private static Broker tlsOnly;
    private static Broker tlsAndPlain;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        certs = DevCertificates.ensure(dir.resolve("platform"));
        Map<String, String> tls = new HashMap<>(certs.settings("broker"));
        tls.put("broker.tls.plain", "false");
        tlsOnly = Broker.start(TestBrokers.config(tls));
        tlsAndPlain = Broker.start(TestBrokers.config(certs.settings("broker")));
    }

    @AfterAll
    static void stop() {
        if (tlsOnly != null) {
            tlsOnly.close();
        }
        if (tlsAndPlain != null) {
            tlsAndPlain.close();
        }
    }

    /** Trusts the platform's CA; presents the platform certificate when {@code withCertificate}. */
    private static SslContext trustingClient(boolean withCertificate) throws Exception {
        SslContextBuilder b = SslContextBuilder.forClient().trustManager(certs.caCertificate().toFile())
                .endpointIdentificationAlgorithm("HTTPS");
        if (withCertificate) {
            b.keyManager(certs.certificateChain().toFile(), certs.privateKey().toFile());
        }
        return b.build();
    }

    @Test
    void aDeviceConnectsOverTlsOnTcpAndOverWss() throws Exception {
        String app = TestBrokers.uniqueApp();
        SslContext tls = trustingClient(false);
        try (FrameClient tcp = FrameClient.tcp(tlsOnly.tcpAddress(), tls);
             FrameClient wss = FrameClient.webSocket(tlsOnly.wsAddress(), tls)) {
            tcp.connect(app, "r1", TestBrokers.token(app, "r1"));
            wss.connect(app, "r2", TestBrokers.token(app, "r2"));
            assertNull(tcp.awaitHandshake());
            assertNull(wss.awaitHandshake());
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCaFailsTheHandshake(@TempDir Path other) throws Exception {
        DevCertificates stranger = DevCertificates.ensure(other);
        SslContext untrusting = SslContextBuilder.forClient().trustManager(stranger.caCertificate().toFile())
                .endpointIdentificationAlgorithm("HTTPS").build();
        try (FrameClient device = FrameClient.tcp(tlsOnly.tcpAddress(), untrusting)) {
            assertInstanceOf(SSLHandshakeException.class, device.awaitHandshake());
            device.awaitClosed();
            device.expectSilence(Duration.ofMillis(200));
        }
    }

    @Test
    void withPlainOffAPlainConnectGetsNoConnAckAndIsClosed() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient plain = FrameClient.tcp(tlsOnly.tcpAddress())) {
            plain.send(new Frame.Connect(app, "r1", TestBrokers.token(app, "r1"), 0L));
            plain.awaitClosed();
            assertNoConnAck(plain);
        }
        try (FrameClient plainInternal = FrameClient.tcp(tlsOnly.internalAddress())) {
            plainInternal.send(new Frame.PushCommand(1, app, "r1", push(1)));
            plainInternal.awaitClosed();
            Object o = plainInternal.next(Duration.ofMillis(200));
            assertFalse(o instanceof Frame.PushResult, "plain internal command answered: " + o);
        }
    }

    @Test
    void withPlainOnOnePortServesBothPlainAndTls() throws Exception {
        String app = TestBrokers.uniqueApp();
        try (FrameClient plain = FrameClient.tcp(tlsAndPlain.tcpAddress());
             FrameClient tls = FrameClient.tcp(tlsAndPlain.tcpAddress(), trustingClient(false))) {
            plain.connect(app, "r1", TestBrokers.token(app, "r1"));
            tls.connect(app, "r2", TestBrokers.token(app, "r2"));
            assertNull(tls.awaitHandshake());
        }
    }

    @Test
    void anInternalLinkOverMutualTlsDeliversAPushToATlsDevice() throws Exception {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = FrameClient.tcp(tlsOnly.tcpAddress(), trustingClient(false));
             FrameClient logic = FrameClient.internal(tlsOnly.internalAddress(), TestBrokers.CLUSTER_SECRET,
                     trustingClient(true))) {
            device.connect(app, "r1", TestBrokers.token(app, "r1"));
            Frame.Push push = push(42);

            logic.send(new Frame.PushCommand(7, app, "r1", push));

            Frame.PushResult result = logic.expect(Frame.PushResult.class);
            assertEquals(7, result.correlationId());
            assertEquals(PushOutcome.WRITTEN, result.outcome());
            Frame.Push received = device.expect(Frame.Push.class);
            assertEquals(42, received.msgId());
            assertArrayEquals(push.payload(), received.payload());
        }
    }

    /** The internal port speaks first (its link challenge), so it is TLS only even where devices may use plain. */
    @Test
    void anInternalLinkOverTlsDeliversOnABrokerThatAlsoServesPlainDevices() throws Exception {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = FrameClient.tcp(tlsAndPlain.tcpAddress());
             FrameClient logic = FrameClient.internal(tlsAndPlain.internalAddress(), TestBrokers.CLUSTER_SECRET,
                     trustingClient(true))) {
            device.connect(app, "r1", TestBrokers.token(app, "r1"));
            logic.send(new Frame.PushCommand(9, app, "r1", push(44)));

            assertEquals(PushOutcome.WRITTEN, logic.expect(Frame.PushResult.class).outcome());
            assertEquals(44, device.expect(Frame.Push.class).msgId());
        }
    }

    @Test
    void anInternalLinkWithoutAClientCertificateIsRefused() throws Exception {
        String app = TestBrokers.uniqueApp();
        try (FrameClient logic = FrameClient.tcp(tlsOnly.internalAddress(), trustingClient(false))) {
            // The broker may end the handshake before the command is written (the write then fails): same refusal.
            logic.trySend(new Frame.PushCommand(8, app, "r1", push(43)));
            logic.awaitClosed();
            Object o = logic.next(Duration.ofMillis(200));
            assertFalse(o instanceof Frame.PushResult, "command from a peer without certificate answered: " + o);
        }
    }

    private static void assertNoConnAck(FrameClient c) {
        for (Object o = c.next(Duration.ofMillis(200)); o != null; o = c.next(Duration.ofMillis(200))) {
            assertFalse(o instanceof Frame.ConnAck, "plain CONNECT answered " + o);
        }
    }

    private static Frame.Push push(long msgId) {
        return new Frame.Push(msgId, System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                "{\"tls\":true}".getBytes(StandardCharsets.UTF_8));
    }
}
