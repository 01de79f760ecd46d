package io.tern.broker;

import io.tern.broker.config.BrokerConfig;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.token.ConnectToken;
import io.tern.protocol.token.ConnectTokenSigner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;


/** A broker configured for production (its own token secret, dev mode off) against real Redis and Kafka. */
class ProductionTokenSecretIT {
    private static final String SECRET = "production-token-secret-0123456789";
    private static Broker broker;

    @BeforeAll
    static void start() {
        broker = Broker.start(TestBrokers.config(Map.of(
                "broker.dev-mode", "false",
                // Outside dev mode plain listeners are off by default; this test is about the secret.
                "broker.tls.plain", "true",
                "broker.token-secret", SECRET,
                "broker.handshake-timeout", "2s")));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static String token(byte[] secret, String app, String reg) {
        return new ConnectTokenSigner(secret).sign(new ConnectToken(app, reg, "local", System.currentTimeMillis() + 60_000));
    }

    @Test
    void aTokenForgedWithTheDevelopmentSecretIsRefused() {
        String app = TestBrokers.uniqueApp();
        String forged = token(BrokerConfig.DEV_TOKEN_SECRET.getBytes(StandardCharsets.UTF_8), app, "victim");
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.send(new Frame.Connect(app, "victim", forged, 0));
            device.expectDisconnect(ReasonCode.TOKEN_INVALID);
        }
    }

    @Test
    void aTokenSignedWithTheConfiguredSecretIsAccepted() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.connect(app, "r1", token(SECRET.getBytes(StandardCharsets.UTF_8), app, "r1"));
        }
    }
}
