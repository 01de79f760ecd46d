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
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.token.DeviceSecrets;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The simulated devices of one process: real SDK clients ({@link TernClient}) on one shared event
 * loop group and one shared HTTP client, each bound to a source address from the configured list.
 * Connecting is paced: at most {@code maxPending} devices are between start and their first
 * CONNACK, and optionally at most {@code connectRate} start per second.
 */
final class TernFleet extends Fleet {
    private final EventLoopGroup group;
    private final HttpClient http;
    /** Trusted CA for HTTPS dispatch and TLS connects; null = plain. */
    private final ClientTls tls;
    private final URI dispatcher;
    private final TernClient[] clients;
    private final DeviceSecrets secrets;
    /** Written on each client's event loop, one slot per device. */
    private final boolean[] everConnected;
    /** Sessions ended by REDIRECT / DISCONNECT REGION_MOVED: the devices a region move sent elsewhere. */
    private final AtomicLong regionMoved = new AtomicLong();
    private final Object window = new Object();

    TernFleet(DeviceConfig config, LongConsumer onBroadcastComplete) {
        super(config, onBroadcastComplete);
        this.group = EventLoops.newGroup(config.threads(), "devices");
        // Dispatch answers are small and handled without blocking: run the HTTP client's callbacks on its
        // selector thread instead of handing each to a worker pool (fewer thread hops on 2 cores).
        this.tls = config.trustedCa() == null ? null : ClientTls.trusting(Path.of(config.trustedCa()));
        HttpClient.Builder http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Runnable::run)
                .connectTimeout(Duration.ofSeconds(5));
        this.http = (tls == null ? http : http.sslContext(tls.jdkContext())).build();
        this.dispatcher = URI.create(config.dispatcher());
        this.clients = new TernClient[config.count()];
        this.secrets = new DeviceSecrets(config.deviceKey().getBytes(StandardCharsets.UTF_8));
        this.everConnected = new boolean[config.count()];
    }

    @Override
    void start(int i) {
        TernClient c = build(i);
        clients[i] = c;
        c.start();
    }

    @Override
    void awaitRoom() {
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
            received(message.payload(), message.receivedAtNanos());
        }

        @Override
        public void onConnected(String broker) {
            connected.incrementAndGet();
            if (!everConnected[index]) {
                everConnected[index] = true;
                firstConnected();
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
    int closeAll(Duration timeout) {
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
    void putOwnStats(ObjectNode n) {
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
        n.put("dispatches", dispatches);
        n.put("dispatchFailures", dispatchFailures);
        n.put("connectAttempts", attempts);
        n.put("connectFailures", failures);
        n.put("connects", connects);
        n.put("reconnects", reconnects);
        n.put("regionMoved", regionMoved.get());
        n.put("duplicatesDropped", duplicates);
        n.put("expiredDropped", expired);
    }
}
