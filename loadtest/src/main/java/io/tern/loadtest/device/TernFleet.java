package io.tern.loadtest.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.EventLoopGroup;
import io.tern.client.ClientStats;
import io.tern.client.ClientTls;
import io.tern.client.dispatch.DeviceCredentials;
import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.client.net.EventLoops;
import io.tern.loadtest.stats.EpochClock;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.token.DeviceSecrets;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The simulated devices of one process: real SDK clients ({@link TernClient}) on one shared event
 * loop group and one shared HTTP client, each bound to a source address from the configured list.
 * Connecting is paced: at most {@code maxPending} devices are between start and their first
 * CONNACK, and optionally at most {@code connectRate} start per second.
 */
final class TernFleet implements Fleet {
    private final DeviceConfig config;
    private final EventLoopGroup group;
    private final HttpClient http;
    /** Trusted CA for HTTPS dispatch and TLS connects; null = plain. */
    private final ClientTls tls;
    private final URI dispatcher;
    private final InetAddress[] addresses;
    private final TernClient[] clients;
    private final DeviceSecrets secrets;
    /** Written on each client's event loop, one slot per device. */
    private final boolean[] everConnected;
    private final Receipts receipts = new Receipts();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger connected = new AtomicInteger();
    private final AtomicInteger firstConnects = new AtomicInteger();
    private final AtomicLong disconnects = new AtomicLong();
    /** Sessions ended by REDIRECT / DISCONNECT REGION_MOVED: the devices a region move sent elsewhere. */
    private final AtomicLong regionMoved = new AtomicLong();
    private final AtomicLong startedAtMicros = new AtomicLong();
    private final AtomicLong allConnectedAtMicros = new AtomicLong();
    private final Object window = new Object();
    /** Told each broadcast number once its receipts reach the connected devices; called on an event loop. */
    private final LongConsumer onBroadcastComplete;
    private volatile boolean closing;

    TernFleet(DeviceConfig config, LongConsumer onBroadcastComplete) {
        this.config = config;
        this.onBroadcastComplete = onBroadcastComplete;
        this.group = EventLoops.newGroup(config.threads(), "devices");
        // Dispatch answers are small and handled without blocking: run the HTTP client's callbacks on its
        // selector thread instead of handing each to a worker pool (fewer thread hops on 2 cores).
        this.tls = config.trustedCa() == null ? null : ClientTls.trusting(Path.of(config.trustedCa()));
        HttpClient.Builder http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Runnable::run)
                .connectTimeout(Duration.ofSeconds(5));
        this.http = (tls == null ? http : http.sslContext(tls.jdkContext())).build();
        this.dispatcher = URI.create(config.dispatcher());
        this.addresses = new InetAddress[config.addresses().size()];
        for (int i = 0; i < addresses.length; i++) {
            try {
                addresses[i] = InetAddress.getByName(config.addresses().get(i));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("bad source address " + config.addresses().get(i), e);
            }
        }
        this.clients = new TernClient[config.count()];
        this.secrets = new DeviceSecrets(config.deviceKey().getBytes(StandardCharsets.UTF_8));
        this.everConnected = new boolean[config.count()];
    }

    /** Starts every device, paced; returns at once (a daemon thread does the pacing). */
    @Override
    public void connectAll() {
        Thread t = new Thread(this::startDevices, "devices-starter");
        t.setDaemon(true);
        t.start();
    }

    private void startDevices() {
        long t0 = System.nanoTime();
        startedAtMicros.set(EpochClock.toEpochMicros(t0));
        if (config.count() == 0) {
            allConnectedAtMicros.set(EpochClock.nowMicros());
        }
        for (int i = 0; i < config.count() && !closing; i++) {
            awaitWindow();
            if (config.connectRate() > 0) {
                long due = t0 + (long) (i * 1e9 / config.connectRate());
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    sleepNanos(wait);
                }
            }
            TernClient c = build(i);
            clients[i] = c;
            started.incrementAndGet();
            c.start();
        }
    }

    /** Waits while maxPending devices are started but not connected yet (at most 30 s, then goes on). */
    private void awaitWindow() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        synchronized (window) {
            while (started.get() - firstConnects.get() >= config.maxPending() && !closing) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    System.err.println("connect window full for 30 s (" + (started.get() - firstConnects.get())
                            + " pending); starting more anyway");
                    return;
                }
                try {
                    window.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private TernClient build(int i) {
        return TernClient.builder()
                .dispatcher(dispatcher)
                .appId(config.appId())
                .credentials(new DeviceCredentials(config.regId(i), secrets.secretFor(config.appId(), config.regId(i))))
                .eventLoopGroup(group)
                .httpClient(http)
                .tls(tls)
                .localAddress(addresses[i % addresses.length])
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(5))
                .dedupCapacity(config.dedup())
                .homeRegion(config.region())
                // A region move sends thousands of this process's devices to the dispatcher within seconds; on
                // this shared 2-core machine it answers them in more than the SDK's 5 s, and abandoned requests
                // come back as retries on top (the 20k failover runs collapsed that way). A phone would wait too.
                .dispatchTimeout(Duration.ofSeconds(30))
                .listener(new Listener(i))
                .build();
    }

    private final class Listener implements PushListener {
        private final int index;

        Listener(int index) {
            this.index = index;
        }

        @Override
        public void onMessage(PushMessage message) {
            long complete = receipts.onMessage(message.payload(), message.receivedAtNanos(), connected.get());
            if (complete >= 0) {
                onBroadcastComplete.accept(complete);
            }
        }

        @Override
        public void onConnected(String broker) {
            connected.incrementAndGet();
            if (!everConnected[index]) {
                everConnected[index] = true;
                if (firstConnects.incrementAndGet() == config.count()) {
                    allConnectedAtMicros.set(EpochClock.nowMicros());
                }
                synchronized (window) {
                    window.notifyAll();
                }
            }
        }

        @Override
        public void onDisconnected(ReasonCode reason, String detail) {
            connected.decrementAndGet();
            disconnects.incrementAndGet();
            if (reason == ReasonCode.REGION_MOVED) {
                regionMoved.incrementAndGet();
            }
        }
    }

    /** Closes every device (DISCONNECT OK), waiting up to {@code timeout}; returns how many closed in time. */
    @Override
    public int closeAll(Duration timeout) {
        closing = true;
        synchronized (window) {
            window.notifyAll();
        }
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (TernClient c : clients) {
            if (c != null) {
                done.add(c.closeAsync());
            }
        }
        try {
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // counted below
        }
        int closed = 0;
        for (CompletableFuture<Void> f : done) {
            if (f.isDone()) {
                closed++;
            }
        }
        return closed;
    }

    @Override
    public void putStats(ObjectNode n) {
        long dispatches = 0, dispatchFailures = 0, attempts = 0, failures = 0, connects = 0, reconnects = 0,
                duplicates = 0, expired = 0;
        for (TernClient c : clients) {
            if (c == null) {
                continue;
            }
            ClientStats s = c.stats();
            dispatches += s.dispatches();
            dispatchFailures += s.dispatchFailures();
            attempts += s.connectAttempts();
            failures += s.connectFailures();
            connects += s.connects();
            reconnects += s.reconnects();
            duplicates += s.duplicatesDropped();
            expired += s.expiredDropped();
        }
        n.put("proc", config.proc());
        n.put("devices", config.count());
        n.put("started", started.get());
        n.put("connected", connected.get());
        n.put("everConnected", firstConnects.get());
        n.put("dispatches", dispatches);
        n.put("dispatchFailures", dispatchFailures);
        n.put("connectAttempts", attempts);
        n.put("connectFailures", failures);
        n.put("connects", connects);
        n.put("reconnects", reconnects);
        n.put("disconnects", disconnects.get());
        n.put("regionMoved", regionMoved.get());
        n.put("duplicatesDropped", duplicates);
        n.put("expiredDropped", expired);
        n.put("startedAt", startedAtMicros.get());
        n.put("allConnectedAt", allConnectedAtMicros.get());
        receipts.putCounts(n);
    }

    /** From now on, single pushes sent in [fromMicros, toMicros) also count in latency window {@code name}. */
    @Override
    public void window(String name, long fromMicros, long toMicros) {
        receipts.window(name, fromMicros, toMicros);
    }

    /** Broadcasts complete only now that fewer devices are connected than when their last receipt came. */
    @Override
    public List<Long> broadcastsCompleteNow() {
        return receipts.completeNow(connected.get());
    }

    @Override
    public void resetReceipts() {
        receipts.reset();
    }

    @Override
    public void putHistograms(ObjectNode n) {
        receipts.putHistograms(n);
    }
}
