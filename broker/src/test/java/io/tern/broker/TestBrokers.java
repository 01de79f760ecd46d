package io.tern.broker;

import io.tern.broker.config.BrokerConfig;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.token.ConnectToken;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.runtime.config.Settings;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/** Brokers on free ports against the shared real Redis and Kafka, and tokens they accept. */
final class TestBrokers {
    static final ConnectTokenSigner SIGNER =
            new ConnectTokenSigner(BrokerConfig.DEV_TOKEN_SECRET.getBytes(StandardCharsets.UTF_8));

    /** The cluster secret of {@link #config} brokers (not the dev default, so a link must really use it). */
    static final String CLUSTER_SECRET = "it-cluster-secret-" + UUID.randomUUID();

    private TestBrokers() {
    }

    /** A config with unique id, every port 0, and {@code overrides} on top. */
    static BrokerConfig config(Map<String, String> overrides) {
        Map<String, String> m = new HashMap<>();
        m.put("broker.id", "it-" + UUID.randomUUID().toString().substring(0, 8));
        m.put("broker.tcp-port", "0");
        m.put("broker.ws-port", "0");
        m.put("broker.internal-port", "0");
        m.put("broker.admin-port", "0");
        m.put("broker.io-threads", "2");
        m.put("broker.redis-uri", SharedInfra.redis().uri());
        m.put("broker.kafka-bootstrap", SharedInfra.kafka().bootstrapServers());
        m.put("broker.shutdown-drain", "1s");
        // SIGNER uses the development secret.
        m.put("broker.dev-mode", "true");
        m.put("broker.cluster-secret", CLUSTER_SECRET);
        m.putAll(overrides);
        return BrokerConfig.from(Settings.of(m));
    }

    static String token(String appId, String regId) {
        return SIGNER.sign(new ConnectToken(appId, regId, "local", System.currentTimeMillis() + 60_000));
    }

    static String uniqueApp() {
        return "app-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
