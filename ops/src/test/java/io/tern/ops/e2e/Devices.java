package io.tern.ops.e2e;

import io.netty.channel.EventLoopGroup;
import io.tern.client.ClientTls;
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

/** Many SDK devices in the test JVM on a shared event loop group, recording what each receives. */
final class Devices implements AutoCloseable {
    private static final int WAVE = 500;
    private final EventLoopGroup group = Transports.group(2, "e2e-devices");
    private final HttpClient http;
    private final URI dispatcher;
    private final String appId;
    private final ClientTls tls;
    private final Map<String, TernClient> clients = new ConcurrentHashMap<>();
    /** regId → messages in arrival order. */
    final Map<String, List<PushMessage>> received = new ConcurrentHashMap<>();

    Devices(InetSocketAddress dispatcher, String appId) {
        this(dispatcher, appId, null);
    }

    /** @param tls when set, devices dispatch over HTTPS and connect over TLS, verifying with it */
    Devices(InetSocketAddress dispatcher, String appId, ClientTls tls) {
        this.tls = tls;
        this.http = tls == null ? HttpClient.newHttpClient() : HttpClient.newBuilder().sslContext(tls.jdkContext()).build();
        this.dispatcher = URI.create((tls == null ? "http://" : "https://") + dispatcher.getHostString() + ":"
                + dispatcher.getPort());
        this.appId = appId;
    }

    TernClient start(String regId) {
        received.computeIfAbsent(regId, r -> new CopyOnWriteArrayList<>());
        TernClient c = TernClient.builder()
                .dispatcher(dispatcher)
                .appId(appId)
                .regId(regId)
                .eventLoopGroup(group)
                .httpClient(http)
                .tls(tls)
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                .listener(new PushListener() {
                    @Override
                    public void onMessage(PushMessage m) {
                        received.get(regId).add(m);
                    }
                })
                .build();
        clients.put(regId, c);
        c.start();
        return c;
    }

    /** Starts devices in waves of {@value #WAVE}, each connected before the next: a paced storm. */
    List<TernClient> startAll(List<String> regIds) {
        List<TernClient> out = new ArrayList<>();
        for (int from = 0; from < regIds.size(); from += WAVE) {
            List<TernClient> wave = new ArrayList<>();
            for (String r : regIds.subList(from, Math.min(regIds.size(), from + WAVE))) {
                wave.add(start(r));
            }
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> wave.stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));
            out.addAll(wave);
        }
        return out;
    }

    TernClient client(String regId) {
        return clients.get(regId);
    }

    void stop(String regId) {
        TernClient c = clients.remove(regId);
        if (c != null) {
            c.close();
        }
    }

    List<PushMessage> receivedBy(String regId) {
        return received.getOrDefault(regId, List.of());
    }

    @Override
    public void close() {
        clients.values().forEach(TernClient::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
