package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
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

/** Scheduled pushes across a logic-node restart, recall, and bad group-push input. */
class TaskLifecycleIT {
    private static final String QUOTA_APP = "e2e-quota";
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-tasks", Map.of(
                "logic.apps." + QUOTA_APP + ".key", "k-quota",
                "logic.apps." + QUOTA_APP + ".secret", "quota-secret",
                "logic.limits.apps." + QUOTA_APP + ".daily-quota", "3"));
        devices = platform.devices();
        api = platform.api();
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
    }

    private static void connected(String regId) {
        TernClient c = devices.start(regId);
        await().atMost(Duration.ofSeconds(15)).until(() -> c.state() == TernClient.State.CONNECTED);
    }

    private static int connections() {
        return platform.cluster.brokers().stream().mapToInt(b -> b.connectionCount()).sum();
    }

    private static long copies(String regId, String taskId) {
        return devices.receivedBy(regId).stream().filter(m -> Long.toString(m.msgId()).equals(taskId)).count();
    }

    @Test
    void aScheduledPushFiresOnceAtItsTimeAfterTheAcceptingNodeRestarts() {
        connected("sched-1");
        long sendAt = System.currentTimeMillis() + 4000;
        String taskId = api.createTask("later", "scheduled", "\"sendAt\":" + sendAt);
        PushApiClient.Response r = api.listPush(taskId, List.of(devices.regId("sched-1")), null);
        assertEquals(200, r.status(), () -> String.valueOf(r.body()));
        assertEquals("scheduled", api.task(taskId).get("state").asText());

        platform.cluster.restartLogic();
        PushApiClient fresh = platform.api();

        await().atMost(Duration.ofSeconds(20)).until(() -> copies("sched-1", taskId) >= 1);
        long receivedAt = System.currentTimeMillis();
        assertTrue(receivedAt >= sendAt, "not before its time");
        await().atMost(Duration.ofSeconds(10)).until(() -> fresh.task(taskId).get("delivered").asLong() == 1);
        // Fired once: no second copy within 2 s.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> copies("sched-1", taskId) == 1);
        api = fresh;
    }

    @Test
    void recallStopsCopiesNotYetDelivered() {
        List<String> regIds = IntStream.range(0, 3).mapToObj(i -> "recall-" + i).toList();
        for (String r : regIds) {
            connected(r);
            int before = connections();
            devices.stop(r);
            await().atMost(Duration.ofSeconds(5)).until(() -> connections() == before - 1);
        }
        String taskId = api.createTask("oops", "recall me", null);
        PushApiClient.Response pushed = api.listPush(taskId, devices.regIds(regIds), null);
        assertEquals(200, pushed.status());
        await().atMost(Duration.ofSeconds(5)).until(() -> api.task(taskId).get("offline").asLong() == 3);

        PushApiClient.Response recalled = api.delete("/v1/tasks/" + taskId);
        assertEquals(200, recalled.status(), () -> String.valueOf(recalled.body()));
        assertEquals(3, recalled.body().get("pending").asLong());
        assertEquals("recalled", api.task(taskId).get("state").asText());

        regIds.forEach(devices::start);
        String probe = regIds.get(0);
        await().atMost(Duration.ofSeconds(15)).until(() -> devices.client(probe).state() == TernClient.State.CONNECTED);
        // A later single push arrives, so the device did reconnect and catch up; the recalled task did not.
        PushApiClient.Response later = api.pushNotification(devices.regId(probe), "after recall", "still works").join();
        await().atMost(Duration.ofSeconds(10)).until(() -> devices.receivedBy(probe).stream()
                .anyMatch(m -> Long.toString(m.msgId()).equals(later.body().get("msgId").asText())));
        assertTrue(regIds.stream().allMatch(r -> copies(r, taskId) == 0), "no recalled copy delivered");
        assertEquals(409, api.listPush(taskId, devices.regIds(regIds), null).status(), "a recalled task cannot be sent again");
    }

    @Test
    void unknownTaskIs404() {
        assertEquals(404, api.listPush("123456789", List.of("x"), null).status());
        assertEquals(404, api.get("/v1/tasks/123456789").status());
        assertEquals(404, api.allPush("123456789").status());
    }

    @Test
    void moreThanAThousandRegIdsIs400NamingRegIds() {
        String taskId = api.createTask("t", "b", null);
        PushApiClient.Response r = api.listPush(taskId, IntStream.range(0, 1001).mapToObj(i -> "r" + i).toList(), null);
        assertEquals(400, r.status());
        assertEquals("regIds", r.body().get("field").asText());
    }

    @Test
    void malformedTagExpressionIs400NamingIt() {
        String taskId = api.createTask("t", "b", null);
        JsonNode unknownOp = api.post("/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":{\"some\":[\"a\"]}}").join().body();
        assertEquals("tags.some", unknownOp.get("field").asText());
        PushApiClient.Response notArray = api.post("/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":{\"any\":\"a\"}}").join();
        assertEquals(400, notArray.status());
        assertEquals("tags.any", notArray.body().get("field").asText());
        PushApiClient.Response badTag = api.post("/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":{\"all\":[\"no spaces\"]}}").join();
        assertEquals("tags.all", badTag.body().get("field").asText());
        PushApiClient.Response onlyNone = api.post("/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":{\"none\":[\"a\"]}}").join();
        assertEquals(400, onlyNone.status());
        assertEquals("tags", onlyNone.body().get("field").asText());
    }

    @Test
    void overTheDailyQuotaIs429WithRetryAfter() {
        PushApiClient quota = new PushApiClient(platform.cluster.logic().address()).login(QUOTA_APP, "k-quota", "quota-secret");
        String taskId = quota.createTask("q", "quota", null);
        PushApiClient.Response ok = quota.listPush(taskId, List.of("q1", "q2", "q3"), null);
        assertEquals(200, ok.status(), () -> String.valueOf(ok.body()));
        PushApiClient.Response over = quota.listPush(taskId, List.of("q4"), null);
        assertEquals(429, over.status());
        assertEquals("quota_exceeded", over.body().get("code").asText());
        long retryAfter = Long.parseLong(over.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 86_400, "retry after the UTC day ends: " + retryAfter);
    }
}
