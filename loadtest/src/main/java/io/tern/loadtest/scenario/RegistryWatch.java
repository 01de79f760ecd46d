package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.tern.loadtest.stats.CounterSeries;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Reads the broker registry in Redis a few times a second, as the global scheduler does: each broker's
 * latest {@link BrokerInfo} (connections, sessions by home region, connect counters) and, per broker, the
 * series of its cumulative connect counters at the time of each report (the registry index's score is
 * the report's time, so a rate is Δadmitted / Δreport time, not skewed by when this reads).
 */
final class RegistryWatch implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** One broker's connect counters over time. */
    record Connects(CounterSeries admitted, CounterSeries refused, CounterSeries failed) {
        Connects() {
            this(new CounterSeries(), new CounterSeries(), new CounterSeries());
        }
    }

    private final RedisStore redis;
    private final List<String> ids;
    private final Map<String, BrokerInfo> latest = new ConcurrentHashMap<>();
    private final Map<String, Connects> connects = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile String lastError;

    /** @param brokerIds the brokers of the run (a dead one's key is gone; it simply drops out) */
    RegistryWatch(String redisUri, List<String> brokerIds, Duration period) {
        this.ids = List.copyOf(brokerIds);
        this.redis = RedisStore.connect(redisUri, Duration.ofSeconds(2));
        this.thread = new Thread(() -> loop(period), "registry-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop(Duration period) {
        while (running) {
            try {
                readOnce();
                lastError = null;
            } catch (Exception e) {
                lastError = e.toString(); // Redis restarting: the next read catches up
            }
            try {
                Thread.sleep(period.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void readOnce() throws Exception {
        RedisClusterAsyncCommands<String, String> async = redis.async();
        // Report times and reports in one pipeline: a report lands between the two only rarely (then the
        // next read, with the next report time, puts it right).
        var scores = async.zrangeWithScores(Keys.brokers(), 0, -1);
        var infos = async.mget(ids.stream().map(Keys::broker).toArray(String[]::new));
        Map<String, Long> reportedAt = new TreeMap<>();
        for (ScoredValue<String> v : scores.get(2, TimeUnit.SECONDS)) {
            reportedAt.put(v.getValue(), (long) v.getScore());
        }
        List<KeyValue<String, String>> kvs = infos.get(2, TimeUnit.SECONDS);
        List<String> live = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            KeyValue<String, String> kv = kvs.get(i);
            Long at = reportedAt.get(id);
            if (!kv.hasValue() || at == null) {
                continue;
            }
            BrokerInfo info = JSON.readValue(kv.getValue(), BrokerInfo.class);
            live.add(id);
            latest.put(id, info);
            Connects c = connects.computeIfAbsent(id, k -> new Connects());
            c.admitted().add(at, info.connects().admitted());
            c.refused().add(at, info.connects().refused());
            c.failed().add(at, info.connects().failed());
        }
        latest.keySet().retainAll(live);
    }

    /** Live brokers by id, their latest report. */
    Map<String, BrokerInfo> brokers() {
        return new TreeMap<>(latest);
    }

    /** The connect counters of broker {@code id} since this watch began (empty series when never seen). */
    Connects connects(String id) {
        return connects.computeIfAbsent(id, k -> new Connects());
    }

    /** Live sessions on the brokers of {@code region}. */
    int connectionsIn(String region) {
        int n = 0;
        for (BrokerInfo b : latest.values()) {
            if (region.equals(b.region())) {
                n += b.connections();
            }
        }
        return n;
    }

    /** Sessions of devices whose home region is {@code home}, on brokers of {@code region}. */
    int sessionsOf(String home, String region) {
        int n = 0;
        for (BrokerInfo b : latest.values()) {
            if (region.equals(b.region())) {
                n += b.sessionsOf(home);
            }
        }
        return n;
    }

    /** Sessions on a broker outside their device's home region. */
    int awayFromHome() {
        int n = 0;
        for (BrokerInfo b : latest.values()) {
            n += b.connections() - b.sessionsOf(b.region());
        }
        return n;
    }

    /** "north b1 6,667 · south b2 6,667 …" */
    String describe() {
        StringBuilder sb = new StringBuilder();
        for (BrokerInfo b : brokers().values()) {
            sb.append(sb.length() == 0 ? "" : " · ").append(b.region()).append(' ').append(b.id()).append(' ')
                    .append(String.format("%,d", b.connections()));
        }
        return sb.length() == 0 ? "no live broker" + (lastError == null ? "" : " (" + lastError + ")") : sb.toString();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        redis.close();
    }
}
