package io.tern.ops.e2e;

import io.tern.devstack.KafkaBroker;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.ops.local.LocalCluster;
import io.tern.runtime.config.Settings;
import io.tern.store.topic.Topics;

import java.util.HashMap;
import java.util.Map;

/**
 * Every role on port 0 against the JVM's shared real Redis and Kafka, with one app provisioned.
 * Each test class uses its own appId so classes never see each other's devices.
 */
final class PlatformFixture implements AutoCloseable {
    static final String APP_KEY = "e2e-key";
    static final String APP_SECRET = "e2e-secret";

    final String appId;
    final LocalCluster cluster;

    private PlatformFixture(String appId, Map<String, String> extra, String redisUri) {
        this.appId = appId;
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
        s.putAll(extra);
        cluster = LocalCluster.start(LocalCluster.wire(Settings.of(s), redisUri, kafka.bootstrapServers()), 2);
    }

    static PlatformFixture start(String appId) {
        return start(appId, Map.of());
    }

    static PlatformFixture start(String appId, Map<String, String> extra) {
        return new PlatformFixture(appId, extra, SharedInfra.redis().uri());
    }

    /** Against {@code redis} instead of the shared Redis (e.g. one that requires a password). */
    static PlatformFixture start(String appId, Map<String, String> extra, RedisServer redis) {
        return new PlatformFixture(appId, extra, redis.uri());
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
