package io.tern.local.e2e;

import io.tern.client.ClientTls;
import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.client.Transport;
import io.tern.devstack.DevCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole platform with TLS on every port and plain refused: the SDK dispatches over HTTPS and
 * connects over TLS (TCP) or wss, the app server pushes over HTTPS, the logic node reaches the
 * brokers over mutual TLS; clients that do not trust the CA, or speak plain, get nothing.
 */
class TlsEndToEndIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    @TempDir
    static Path certDir;
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.startTls("e2e-tls", certDir, false);
        devices = platform.devices();
        api = platform.api();
    }

    @AfterAll
    static void stop() {
        if (devices != null) {
            devices.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void anSdkDeviceOnTlsOverTcpReceivesAPushSentOverHttpsAndItEndsDelivered() {
        TernClient device = devices.start("tls-tcp-1");
        await().atMost(WAIT).until(() -> device.state() == TernClient.State.CONNECTED);

        PushApiClient.Response r = api.pushNotification(devices.regId("tls-tcp-1"), "over", "tls").join();

        assertEquals(200, r.status(), () -> "push: " + r.body());
        String msgId = r.body().get("msgId").asText();
        await().atMost(WAIT).until(() -> !devices.receivedBy("tls-tcp-1").isEmpty());
        PushMessage m = devices.receivedBy("tls-tcp-1").get(0);
        assertEquals(msgId, Long.toString(m.msgId()));
        assertTrue(m.payload().contains("\"title\":\"over\""), m.payload());
        await().atMost(WAIT).pollInterval(Duration.ofMillis(250)).until(() -> api.status(msgId).equals("delivered"));
    }

    @Test
    void anSdkDeviceOnWssReceivesAPush() {
        List<PushMessage> got = new CopyOnWriteArrayList<>();
        try (TernClient device = client(platform.clientTls(), true, Transport.WEBSOCKET, got)) {
            await().atMost(WAIT).until(() -> device.state() == TernClient.State.CONNECTED);

            PushApiClient.Response r = api.pushNotification(device.regId(), "over", "wss").join();

            assertEquals(200, r.status(), () -> "push: " + r.body());
            await().atMost(WAIT).until(() -> !got.isEmpty());
            assertEquals(r.body().get("msgId").asText(), Long.toString(got.get(0).msgId()));
        }
    }

    @Test
    void aDeviceThatDoesNotTrustThePlatformCaNeverConnects(@TempDir Path otherDir) {
        ClientTls stranger = ClientTls.trusting(DevCertificates.ensure(otherDir).caCertificate());
        try (TernClient device = client(stranger, true, Transport.TCP, new CopyOnWriteArrayList<>())) {
            // Registering is its first HTTPS request: it fails on the certificate, and so does every retry.
            await().atMost(WAIT).until(() -> device.stats().registrationFailures() >= 2);
            assertNull(device.regId());
            assertNotEquals(TernClient.State.CONNECTED, device.state());
            assertEquals(0, device.stats().connects());
        }
    }

    @Test
    void withPlainOffPlainHttpAndAPlainDeviceGetNothing() {
        InetSocketAddress d = platform.cluster.dispatcher().address();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://" + d.getHostString() + ":" + d.getPort() + "/health"))
                .timeout(Duration.ofSeconds(5)).build();
        assertThrows(IOException.class, () -> HttpClient.newHttpClient().send(health, HttpResponse.BodyHandlers.ofString()));

        try (TernClient device = client(null, false, Transport.TCP, new CopyOnWriteArrayList<>())) {
            await().atMost(WAIT).until(() -> device.stats().registrationFailures() >= 2);
            assertNull(device.regId());
            assertEquals(0, device.stats().connects());
        }
    }

    /** A new device of the app: it registers with the app's client key on its first start. */
    private static TernClient client(ClientTls tls, boolean https, Transport transport, List<PushMessage> sink) {
        InetSocketAddress d = platform.cluster.dispatcher().address();
        TernClient c = TernClient.builder()
                .dispatcher(URI.create((https ? "https://" : "http://") + d.getHostString() + ":" + d.getPort()))
                .appId(platform.appId)
                .clientKey(PlatformFixture.clientKey(platform.appId))
                .transport(transport)
                .tls(tls)
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500))
                .listener(new PushListener() {
                    @Override
                    public void onMessage(PushMessage m) {
                        sink.add(m);
                    }
                })
                .build();
        c.start();
        return c;
    }
}
