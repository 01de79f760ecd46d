package io.tern.local.e2e;

import io.tern.client.ClientTls;
import io.tern.devstack.DevCertificates;
import io.tern.devstack.KafkaBroker;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.local.LocalCluster;
import io.tern.runtime.config.Settings;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.topic.Topics;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.UUID;

/**
 * Every role on port 0 against the JVM's shared real Redis and Kafka, with one app provisioned (more with
 * {@code logic.apps.*} in {@code extra}). Each test class uses its own appId so classes never see each
 * other's devices. Dev mode: the roles run with the development token secret and device key.
 */
final class PlatformFixture implements AutoCloseable {
    static final String APP_KEY = "e2e-key";
    static final String APP_SECRET = "e2e-secret";

    final String appId;
    final LocalCluster cluster;
    /** The CA and certificate every role serves TLS with; null for a plain platform. */
    final DevCertificates tls;

    private PlatformFixture(String appId, Map<String, String> extra, String redisUri, DevCertificates tls) {
        this.appId = appId;
        this.tls = tls;
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
        s.put("dispatcher.dev-mode", "true");
        s.put("broker.dev-mode", "true");
        s.put("logic.dev-mode", "true");
        // Not the dev default: the logic node's links must carry the brokers' own secret.
        String clusterSecret = "e2e-cluster-secret-" + UUID.randomUUID();
        s.put("broker.cluster-secret", clusterSecret);
        s.put("logic.cluster-secret", clusterSecret);
        // No rate controller or bypass consumer runs here: without a directive every push takes the direct path
        // (a 100,000-device tag push costs more than a second of the default fallback rate and would be buffered).
        s.put("logic.permit.fallback-rate", Long.toString(ThrottleDirective.MAX_PERMIT));
        s.putAll(extra);
        // Every app provisioned for the push API may register devices, each with its own client key.
        Set<String> apps = new TreeSet<>();
        s.keySet().stream().filter(k -> k.startsWith("logic.apps.") && k.endsWith(".key"))
                .forEach(k -> apps.add(k.substring("logic.apps.".length(), k.length() - ".key".length())));
        s.put("dispatcher.client-keys", apps.stream().map(a -> a + "=" + clientKey(a)).collect(Collectors.joining(",")));
        cluster = LocalCluster.start(LocalCluster.wire(Settings.of(s), redisUri, kafka.bootstrapServers()), 2);
    }

    static String clientKey(String appId) {
        return appId + "-client-key";
    }

    static PlatformFixture start(String appId) {
        return start(appId, Map.of());
    }

    static PlatformFixture start(String appId, Map<String, String> extra) {
        return new PlatformFixture(appId, extra, SharedInfra.redis().uri(), null);
    }

    /** Against {@code redis} instead of the shared Redis (e.g. one that requires a password). */
    static PlatformFixture start(String appId, Map<String, String> extra, RedisServer redis) {
        return new PlatformFixture(appId, extra, redis.uri(), null);
    }

    /**
     * Every role serves TLS with a dev CA created in {@code certDir}; logic nodes link to brokers
     * over mutual TLS. {@code plain} = whether the same ports still accept plain connections.
     */
    static PlatformFixture startTls(String appId, Path certDir, boolean plain) {
        DevCertificates certs = DevCertificates.ensure(certDir);
        Map<String, String> s = new HashMap<>();
        for (String role : List.of("broker", "logic", "dispatcher")) {
            s.putAll(certs.settings(role));
            s.put(role + ".tls.plain", Boolean.toString(plain));
        }
        return new PlatformFixture(appId, s, SharedInfra.redis().uri(), certs);
    }

    /** Devices and the app server trust the platform's CA; null on a plain platform. */
    ClientTls clientTls() {
        return tls == null ? null : ClientTls.trusting(tls.caCertificate());
    }

    PushApiClient api() {
        return new PushApiClient(cluster.logic().address(), clientTls()).login(appId, APP_KEY, APP_SECRET);
    }

    Devices devices() {
        return devices(appId);
    }

    /** Devices of {@code app}, which must be provisioned on this platform; over TLS on a TLS platform. */
    Devices devices(String app) {
        return new Devices(cluster.dispatcher().address(), app, clientKey(app), clientTls());
    }

    @Override
    public void close() {
        cluster.close();
    }
}
