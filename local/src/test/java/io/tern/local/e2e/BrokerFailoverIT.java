package io.tern.local.e2e;

import io.tern.broker.Broker;
import io.tern.client.TernClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broker stops mid-test: its devices move to the other broker and later pushes reach them. */
class BrokerFailoverIT {
    private static PlatformFixture platform;
    private static Devices devices;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-failover");
        devices = platform.devices();
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
    }

    @Test
    void devicesOfAStoppedBrokerReconnectToTheOtherAndLaterPushesReachThem() {
        List<String> regIds = IntStream.range(0, 40).mapToObj(i -> "fo-" + i).toList();
        List<TernClient> clients = devices.startAll(regIds);
        await().atMost(Duration.ofSeconds(20)).until(() -> clients.stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));
        Broker victim = platform.cluster.brokers().get(0);
        Broker survivor = platform.cluster.brokers().get(1);
        assertTrue(victim.connectionCount() > 0, "the stopped broker had devices");

        platform.cluster.stopBroker(victim);

        await().atMost(Duration.ofSeconds(30)).until(() -> survivor.connectionCount() == regIds.size());
        String survivorAddress = survivor.tcpAddress().getHostString() + ":" + survivor.tcpAddress().getPort();
        await().atMost(Duration.ofSeconds(10)).until(() -> clients.stream().allMatch(c ->
                c.state() == TernClient.State.CONNECTED && survivorAddress.equals(c.connectedBroker())));

        PushApiClient api = platform.api();
        Map<String, String> ids = new java.util.HashMap<>();
        for (String r : regIds) {
            PushApiClient.Response resp = api.pushNotification(devices.regId(r), "after failover", r).join();
            assertEquals(200, resp.status(), () -> resp.body().toString());
            ids.put(r, resp.body().get("msgId").asText());
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> regIds.stream().allMatch(r ->
                devices.receivedBy(r).stream().anyMatch(m -> Long.toString(m.msgId()).equals(ids.get(r)))));
    }
}
