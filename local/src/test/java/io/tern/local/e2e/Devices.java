package io.tern.local.e2e;

import io.netty.channel.EventLoopGroup;
import io.tern.client.ClientTls;
import io.tern.client.CredentialStore;
import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.runtime.net.Transports;
import org.awaitility.Awaitility;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Many SDK devices in the test JVM on a shared event loop group, recording what each receives. Each device
 * has a name chosen by the test; its first start registers it through {@code POST /v1/register} (the SDK
 * does that), and its credentials stay in a store of its own, so a restart is the same device with the same
 * regId, as an app that persists them. Pushes go to {@link #regId(String)}, the regId the platform issued.
 */
public final class Devices implements AutoCloseable {
    private static final int WAVE = 500;
    private final EventLoopGroup group = Transports.group(2, "e2e-devices");
    private final HttpClient http;
    private final URI dispatcher;
    private final String appId;
    private final String clientKey;
    private final ClientTls tls;
    private final Map<String, TernClient> clients = new ConcurrentHashMap<>();
    private final Map<String, CredentialStore> stores = new ConcurrentHashMap<>();
    /** device name → home region it dispatches with; devices not named here name none (the dispatcher's default). */
    private final Map<String, String> homes = new ConcurrentHashMap<>();
    /** device name → messages in arrival order. */
    final Map<String, List<PushMessage>> received = new ConcurrentHashMap<>();

    /**
     * @param clientKey the app's client key, with which each device registers
     * @param tls       when set, devices register and dispatch over HTTPS and connect over TLS, verifying with it
     */
    public Devices(InetSocketAddress dispatcher, String appId, String clientKey, ClientTls tls) {
        this.tls = tls;
        this.http = tls == null ? HttpClient.newHttpClient() : HttpClient.newBuilder().sslContext(tls.jdkContext()).build();
        this.dispatcher = URI.create((tls == null ? "http://" : "https://") + dispatcher.getHostString() + ":"
                + dispatcher.getPort());
        this.appId = appId;
        this.clientKey = clientKey;
    }

    /** Starts device {@code name}: registers it on its first start, reuses its credentials after. */
    public TernClient start(String name) {
        return start(name, 0);
    }

    /** Starts device {@code name} as an app that kept the last broadcast sequence it saw. */
    public TernClient start(String name, long lastBroadcastSeq) {
        received.computeIfAbsent(name, r -> new CopyOnWriteArrayList<>());
        TernClient c = TernClient.builder()
                .dispatcher(dispatcher)
                .appId(appId)
                .clientKey(clientKey)
                .credentialStore(stores.computeIfAbsent(name, n -> CredentialStore.inMemory()))
                .eventLoopGroup(group)
                .httpClient(http)
                .homeRegion(homes.get(name))
                .tls(tls)
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                .lastBroadcastSeq(lastBroadcastSeq)
                .listener(new PushListener() {
                    @Override
                    public void onMessage(PushMessage m) {
                        received.get(name).add(m);
                    }
                })
                .build();
        clients.put(name, c);
        c.start();
        return c;
    }

    /** Makes {@code region} the home region device {@code name} dispatches with, from its next start on. */
    public void home(String name, String region) {
        homes.put(name, region);
    }

    public String homeOf(String name) {
        return homes.get(name);
    }

    /** The regId the platform issued device {@code name} (waits for its registration). */
    public String regId(String name) {
        CredentialStore store = stores.get(name);
        if (store == null) {
            throw new IllegalStateException("device " + name + " was never started");
        }
        // No poll delay: a registered device answers at once (Awaitility's default first look is 100 ms late,
        // which made the regIds of 1,000 devices cost 100 s).
        Awaitility.await().pollDelay(Duration.ZERO).atMost(Duration.ofSeconds(15)).until(() -> store.load() != null);
        return store.load().regId();
    }

    public List<String> regIds(List<String> names) {
        return names.stream().map(this::regId).toList();
    }

    /** Starts devices in waves of {@value #WAVE}, each connected before the next: a paced storm. */
    public List<TernClient> startAll(List<String> names) {
        List<TernClient> out = new ArrayList<>();
        for (int from = 0; from < names.size(); from += WAVE) {
            List<TernClient> wave = new ArrayList<>();
            for (String r : names.subList(from, Math.min(names.size(), from + WAVE))) {
                wave.add(start(r));
            }
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> wave.stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));
            out.addAll(wave);
        }
        return out;
    }

    public TernClient client(String name) {
        return clients.get(name);
    }

    public void stop(String name) {
        TernClient c = clients.remove(name);
        if (c != null) {
            c.close();
        }
    }

    public List<PushMessage> receivedBy(String name) {
        return received.getOrDefault(name, List.of());
    }

    @Override
    public void close() {
        clients.values().forEach(TernClient::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
