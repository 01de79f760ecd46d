package io.tern.local;

import io.tern.broker.Broker;
import io.tern.client.ClientTls;
import io.tern.client.dispatch.DeviceCredentials;
import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.devstack.DevCertificates;
import io.tern.devstack.KafkaBroker;
import io.tern.devstack.RedisServer;
import io.tern.diskkv.DiskKvBackup;
import io.tern.diskkv.config.BackupConfig;
import io.tern.logic.LogicNode;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.token.DeviceSecrets;
import io.tern.ratecontrol.RateController;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.console.ConsolePages;
import io.tern.store.topic.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole platform on one machine: a real Redis (AOF, appendfsync always), the disk KV's stand-in (a second
 * redis-server, appendfsync always), an in-process KRaft Kafka broker, one disk-KV backup, then every role in dev mode (brokers in regions north and south, two logic nodes, the global
 * scheduler), then a demo device of the demo app, at home in north, that prints what it receives.
 * The demo device is provisioned by the platform itself: its regId is fixed ({@code local.demo-reg-id})
 * and its secret is derived with the dispatcher's device key, so the README's curl sequence can push to it;
 * other devices of the demo app register with its client key.
 */
public final class LocalPlatform implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalPlatform.class);

    private final LocalConfig config;
    private final RedisServer redis;
    private final RedisServer diskKv;
    private final KafkaBroker kafka;
    private final DiskKvBackup backup;
    private final LocalCluster cluster;
    private final TernClient demoDevice;
    private final DevCertificates devTls;

    private LocalPlatform(Settings settings, LocalConfig config, PrintStream out) {
        this.config = config;
        RedisServer.Options redisOptions = RedisServer.Options.defaults().withPort(config.redisPort()).withAppendOnly(true);
        KafkaBroker.Options kafkaOptions = KafkaBroker.Options.defaults().withPort(config.kafkaPort());
        if (config.dataDir() != null) {
            redisOptions = redisOptions.withDataDir(config.dataDir().resolve("redis"));
            kafkaOptions = kafkaOptions.withLogDir(config.dataDir().resolve("kafka"));
        }
        // The disk KV's stand-in: Kvrocks in production, which no registry reachable here ships.
        RedisServer.Options diskKvOptions = RedisServer.Options.defaults().withPort(config.diskKvPort())
                .withAppendOnly(true).withAppendFsync("always");
        if (config.dataDir() != null) {
            diskKvOptions = diskKvOptions.withDataDir(config.dataDir().resolve("disk-kv"));
        }
        redis = RedisServer.start(redisOptions);
        diskKv = RedisServer.start(diskKvOptions);
        kafka = KafkaBroker.start(kafkaOptions);
        kafka.createTopics(Topics.ALL, Topics.COMPACTED);
        backup = DiskKvBackup.start(BackupConfig.from(settings.with(Map.of(
                "backup.kafka-bootstrap", kafka.bootstrapServers(), "backup.disk-kv-uri", diskKv.uri()))));
        Map<String, String> demoApp = new HashMap<>();
        demoApp.put("logic.apps." + config.demoAppId() + ".key", config.demoAppKey());
        demoApp.put("logic.apps." + config.demoAppId() + ".secret", config.demoAppSecret());
        // This runner is a dev machine by definition: the development secrets are fine here.
        demoApp.put("dispatcher.dev-mode", "true");
        demoApp.put("broker.dev-mode", "true");
        demoApp.put("logic.dev-mode", "true");
        demoApp.put("scheduler.dev-mode", "true");
        demoApp.put("ratecontrol.dev-mode", "true");
        demoApp.put("bypass.dev-mode", "true");
        // Outage mode: logic nodes route and queue through the disk KV, brokers deliver its queues.
        for (String key : List.of("logic.disk-kv-uri", "broker.disk-kv-uri")) {
            if (settings.string(key, null) == null) {
                demoApp.put(key, diskKv.uri());
            }
        }
        if (config.sreToken() != null) {
            demoApp.put("scheduler.sre-token", config.sreToken());
        }
        String clientKeys = settings.string("dispatcher.client-keys", null);
        String demoClientKey = config.demoAppId() + "=" + config.demoClientKey();
        demoApp.put("dispatcher.client-keys", clientKeys == null ? demoClientKey : clientKeys + "," + demoClientKey);
        // Devices that name no region (the demo device among them) are at home in the first region.
        if (settings.string("dispatcher.default-region", null) == null) {
            demoApp.put("dispatcher.default-region", config.regions().get(0));
        }
        devTls = config.devTls().enabled() ? DevCertificates.ensure(config.devTls().dir()) : null;
        Settings roles = LocalCluster.wire(settings, redis.uri(), kafka.bootstrapServers()).with(demoApp);
        cluster = LocalCluster.start(devTls == null ? roles : withDevTls(roles, devTls),
                new LocalCluster.Layout(config.brokers(), config.regions(), config.logicNodes(), true, true));
        demoDevice = config.demoDevice() ? startDemoDevice(out) : null;
    }

    /** Every role serves TLS with the dev certificate unless its own tls keys say otherwise. */
    private static Settings withDevTls(Settings settings, DevCertificates certs) {
        Map<String, String> tls = new HashMap<>();
        for (String role : List.of("broker", "logic", "dispatcher", "scheduler")) {
            if (settings.string(role + ".tls.enabled", null) == null) {
                tls.putAll(certs.settings(role));
            }
        }
        return settings.with(tls);
    }

    public static LocalPlatform start(Settings settings, PrintStream out) {
        return new LocalPlatform(settings, LocalConfig.from(settings), out);
    }

    public LocalCluster cluster() {
        return cluster;
    }

    /** The disk-KV backup feeding the disk KV's stand-in. */
    public DiskKvBackup diskKvBackup() {
        return backup;
    }

    public String kafkaBootstrap() {
        return kafka.bootstrapServers();
    }

    private TernClient startDemoDevice(PrintStream out) {
        InetSocketAddress d = cluster.dispatcher().address();
        String deviceKey = cluster.dispatcher().config().devices().deviceKey();
        DeviceCredentials provisioned = new DeviceCredentials(config.demoRegId(),
                new DeviceSecrets(deviceKey.getBytes(StandardCharsets.UTF_8)).secretFor(config.demoAppId(), config.demoRegId()));
        // TLS when both the dispatcher and the brokers serve it (a role's own tls keys may have turned it off).
        boolean tls = devTls != null && cluster.dispatcher().config().tls().enabled()
                && cluster.brokers().stream().allMatch(b -> b.config().tls().enabled());
        TernClient device = TernClient.builder()
                .dispatcher(URI.create((tls ? "https://" : "http://") + d.getHostString() + ":" + d.getPort()))
                .tls(tls ? ClientTls.trusting(devTls.caCertificate()) : null)
                .appId(config.demoAppId())
                .homeRegion(config.regions().get(0))
                .credentials(provisioned)
                .listener(new PushListener() {
                    @Override
                    public void onMessage(PushMessage m) {
                        out.printf("[demo device %s] received msgId=%d %s: %s%n", config.demoRegId(), m.msgId(),
                                m.kind().name().toLowerCase(), m.payload());
                    }

                    @Override
                    public void onConnected(String broker) {
                        out.printf("[demo device %s] connected to broker %s%n", config.demoRegId(), broker);
                    }

                    @Override
                    public void onDisconnected(ReasonCode reason, String detail) {
                        out.printf("[demo device %s] disconnected: %s %s%n", config.demoRegId(), reason, detail);
                    }
                })
                .build();
        device.start();
        if (!device.awaitConnected(Duration.ofSeconds(15))) {
            log.warn("demo device did not connect within 15 s; it keeps retrying");
        }
        return device;
    }

    /** The banner: addresses, credentials and a curl sequence that pushes to the demo device. */
    public void printBanner(PrintStream out) {
        String logic = url(cluster.logic().address());
        String dispatcher = url(cluster.dispatcher().address());
        out.println();
        out.println("Tern is running locally.");
        List<LogicNode> logicNodes = cluster.logicNodes();
        for (int k = 1; k <= logicNodes.size(); k++) {
            out.printf("  logic node l%-2d %s   (push API, /health, /metrics)%n", k, url(logicNodes.get(k - 1).address()));
        }
        out.println("  dispatcher     " + dispatcher + "   (/health, /metrics; default region " + cluster.dispatcher().config().defaultRegion() + ")");
        for (Broker b : cluster.brokers()) {
            out.printf("  broker %-4s    region %s  tcp %s  ws ws://%s/v1/ws  internal %s  admin %s%n", b.id(), b.config().region(),
                    hostPort(b.tcpAddress()), hostPort(b.wsAddress()), hostPort(b.internalAddress()), url(b.adminAddress()));
        }
        GlobalScheduler scheduler = cluster.scheduler();
        String schedulerUrl = url(scheduler.address());
        out.println("  scheduler      " + schedulerUrl + "   (global scheduler: SRE admin API /v1/regions, /health, /metrics; regions "
                + String.join(", ", scheduler.config().regions()) + ")");
        out.println("  console        " + schedulerUrl + ConsolePages.PAGE + "   (SRE console in a browser: regions, brokers, "
                + "throttle, recent tasks, region moves; sign in with the SRE token below)");
        RateController controller = cluster.rateController();
        String controllerUrl = url(controller.address());
        out.println("  rate control   " + controllerUrl + "   (rate controller: SRE admin API /v1/throttle, /v1/scale, /health, /metrics; "
                + "throttles at " + percent(controller.config().throttleAt()) + " of the brokers' capacity, releases below "
                + percent(controller.config().releaseBelow()) + ")");
        out.println("  bypass         " + url(cluster.bypassConsumer().address()) + "   (bypass consumer draining Kafka "
                + "tern.buffer at the permit: /health, /metrics)");
        out.println("  disk-kv backup " + url(backup.address()) + "   (Kafka tern.bodies and tern.routes into the disk KV "
                + diskKv.uri() + ", a redis-server with appendfsync always standing in for Kvrocks: /health, /metrics)");
        out.println("  SRE token      " + scheduler.config().sreToken()
                + (config.sreToken() == null ? "   (generated; set TERN_LOCAL_SRE_TOKEN to choose one)" : "   (TERN_LOCAL_SRE_TOKEN)"));
        out.println("  redis          " + redis.uri() + "   kafka " + kafka.bootstrapServers());
        if (devTls != null) {
            out.println("  TLS            the same ports also speak TLS (https, wss, TLS over TCP); dev CA "
                    + devTls.caCertificate() + " (curl --cacert " + devTls.caCertificate() + " https://...)");
        }
        out.println();
        out.printf("Demo app: appId=%s appKey=%s appSecret=%s clientKey=%s; demo device regId=%s (provisioned in dev mode)%n",
                config.demoAppId(), config.demoAppKey(), config.demoAppSecret(), config.demoClientKey(), config.demoRegId());
        out.printf("Register another device: curl -s %s/v1/register -d '{\"appId\":\"%s\",\"clientKey\":\"%s\"}'%n",
                dispatcher, config.demoAppId(), config.demoClientKey());
        out.println();
        out.println("Push to the demo device (paste into another shell):");
        out.printf("""
                  TS=$(date +%%s%%3N)
                  SIGN=$(printf '%%s' "%1$s%2$s$TS" | openssl dgst -sha256 -hmac '%3$s' | sed 's/^.* //')
                  TOKEN=$(curl -s %4$s/v1/auth -d "{\\"appId\\":\\"%1$s\\",\\"appKey\\":\\"%2$s\\",\\"timestamp\\":$TS,\\"sign\\":\\"$SIGN\\"}" | sed 's/.*"authToken":"\\([^"]*\\)".*/\\1/')
                  curl -s %4$s/v1/push/single -H "authToken: $TOKEN" -d '{"regId":"%5$s","notification":{"title":"Hello","body":"from Tern"}}'
                  # then: curl -s %4$s/v1/messages/<msgId> -H "authToken: $TOKEN"
                %n""", config.demoAppId(), config.demoAppKey(), config.demoAppSecret(), logic, config.demoRegId());
        printRegionDrill(out, schedulerUrl, scheduler.config().sreToken());
        out.printf("""
                Throttle and scale (the rate controller; pushes beyond the permit are queued in Kafka and drained):
                  export TERN_CONTROLLER_URL=%1$s TERN_SRE_TOKEN=%2$s
                  ./ternctl throttle status
                  ./ternctl throttle set --rate 5 --reason drill     # then push a few: they answer "queued" and trickle in
                  ./ternctl throttle release
                  ./ternctl scale status
                %n""", controllerUrl, scheduler.config().sreToken());
        out.println("Ctrl-C stops everything.");
        out.flush();
    }

    /** How an SRE moves the demo device's region to another and back, and where to watch it. */
    private void printRegionDrill(PrintStream out, String schedulerUrl, String token) {
        List<String> regions = config.regions();
        String home = regions.get(0);
        out.printf("Regions: %s; the demo device's home is %s.%n", String.join(", ", regions), home);
        if (regions.size() >= 2) {
            out.printf("""
                    Fail %1$s over to %2$s and back (paste into another shell; the demo device moves and pushes still arrive):
                      export TERN_SCHEDULER_URL=%3$s TERN_SRE_TOKEN=%4$s
                      ./ternctl region list
                      ./ternctl region failover %1$s --to %2$s --rate 200 --reason drill
                      ./ternctl region watch %1$s
                      ./ternctl region failback %1$s --rate 200 --reason "drill over"
                      ./ternctl region history
                    """, home, regions.get(1), schedulerUrl, token);
        }
        // Where each role counts regions (connections per region, move progress, redirects, refused admissions).
        List<String> metrics = new ArrayList<>();
        metrics.add(schedulerUrl);
        metrics.add(url(cluster.dispatcher().address()));
        cluster.brokers().forEach(b -> metrics.add(url(b.adminAddress())));
        out.println("Watch regions in metrics: for u in " + String.join(" ", metrics)
                + "; do curl -s $u/metrics | grep -iE 'region|redirect|admission'; done");
        out.println();
    }

    private static String percent(double fraction) {
        return Math.round(fraction * 100) + " %";
    }

    private static String url(InetSocketAddress a) {
        return "http://" + hostPort(a);
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    @Override
    public void close() {
        if (demoDevice != null) {
            demoDevice.close();
        }
        cluster.close();
        backup.close();
        kafka.close();
        diskKv.close();
        redis.close();
    }
}
