package io.tern.ops.e2e;

import io.tern.devstack.KafkaBroker;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.ops.local.LocalCluster;
import io.tern.runtime.config.Settings;
import io.tern.store.topic.Topics;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Every role on port 0 against the JVM's shared real Redis and Kafka, with one app provisioned.
 * Each test class uses its own appId so classes never see each other's devices.
 */
final class PlatformFixture implements AutoCloseable {
    static final String APP_KEY = "e2e-key";
    static final String APP_SECRET = "e2e-secret";

    final String appId;
    final LocalCluster cluster;

    private PlatformFixture(String appId, Map<String, String> extra) {
        this.appId = appId;
        RedisServer redis = SharedInfra.redis();
        KafkaBroker kafka = SharedInfra.kafka();
        kafka.createTopics(Topics.ACKS);
        Map<String, String> s = new HashMap<>();
        s.put("dispatcher.port", "0");
        s.put("logic.port", "0");
        s.put("broker.tcp-port", "0");
        s.put("broker.ws-port", "0");
        s.put("broker.internal-port", "0");
        s.put("broker.admin-port", "0");
        s.put("logic.apps." + appId + ".key", APP_KEY);
        s.put("logic.apps." + appId + ".secret", APP_SECRET);
        // Not the dev default: the logic node's links must carry the brokers' own secret.
        String clusterSecret = "e2e-cluster-secret-" + UUID.randomUUID();
        s.put("broker.cluster-secret", clusterSecret);
        s.put("logic.cluster-secret", clusterSecret);
        s.putAll(extra);
        cluster = LocalCluster.start(LocalCluster.wire(Settings.of(s), redis.uri(), kafka.bootstrapServers()), 2);
    }

    static PlatformFixture start(String appId) {
        return new PlatformFixture(appId, Map.of());
    }

    static PlatformFixture start(String appId, Map<String, String> extra) {
        return new PlatformFixture(appId, extra);
    }

    PushApiClient api() {
        return new PushApiClient(cluster.logic().address()).login(appId, APP_KEY, APP_SECRET);
    }

    Devices devices() {
        return new Devices(cluster.dispatcher().address(), appId);
    }

    @Override
    public void close() {
        cluster.close();
    }
}
