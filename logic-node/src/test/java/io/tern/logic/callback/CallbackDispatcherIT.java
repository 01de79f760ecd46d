package io.tern.logic.callback;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.http.HttpServer;
import io.tern.store.Keys;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.callback.ParkedReceipt;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.NewMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.receipt.AckRepository;
import io.tern.store.receipt.AppliedAck;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Receipt callbacks against WireMock as the app server, with task counters in a real Redis. */
class CallbackDispatcherIT {
    private static final String APP = "cbapp";
    private static final String SECRET = "app-secret-for-callbacks";
    private static final QueuePolicy POLICY = new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24));
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis() * 1000);

    private static RedisStore redis;
    private static TaskRepository tasks;
    private WireMockServer app;
    private SimpleMeterRegistry registry;
    private CallbackDispatcher dispatcher;
    private CallbackUrlGuard guard;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        tasks = new TaskRepository(redis, POLICY);
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    @BeforeEach
    void startAppServer() {
        // The outbox is one per Redis: start each test without another test's leftovers.
        redis.async().del(Keys.callbacksDue(), Keys.callbackItems()).toCompletableFuture().join();
        app = new WireMockServer(options().dynamicPort().containerThreads(20));
        app.start();
        registry = new SimpleMeterRegistry();
    }

    @AfterEach
    void stop() {
        if (dispatcher != null) {
            dispatcher.close();
            guard.close();
        }
        app.stop();
    }

    private CallbackDispatcher dispatcher(int maxAttempts, Duration requestTimeout, int capacity, int concurrency) {
        CallbackConfig c = new CallbackConfig(100, Duration.ofMillis(50), maxAttempts, Duration.ofMillis(20),
                Duration.ofMillis(100), requestTimeout, capacity, concurrency,
                CallbackConfig.Targets.allowing("127.0.0.1:" + app.port()), // WireMock listens on loopback
                new CallbackConfig.Outbox(LEASE, Duration.ofMillis(50), 100_000));
        guard = new CallbackUrlGuard(c.targets(), "it");
        dispatcher = newDispatcher(c);
        return dispatcher;
    }

    private CallbackDispatcher newDispatcher(CallbackConfig c) {
        return new CallbackDispatcher(c, appId -> APP.equals(appId) ? SECRET : null, tasks, new CallbackOutbox(redis),
                guard, System::currentTimeMillis, registry, "it");
    }

    private String url(String path) {
        return "http://127.0.0.1:" + app.port() + path;
    }

    private long newTask(String callbackUrl) {
        return newTask(APP, callbackUrl);
    }

    /** A broadcast: each device's ack counts once, a first receipt. */
    private static long newTask(String appId, String callbackUrl) {
        long taskId = IDS.incrementAndGet();
        long now = System.currentTimeMillis();
        tasks.create(new TaskBody(taskId, appId, PayloadKind.DATA, "{}", now, now + 3_600_000, callbackUrl, "tp", 0),
                TaskState.SENDING).join();
        tasks.markBroadcast(taskId, 100_000, 7).join();
        return taskId;
    }

    private static AckRecord[] deviceAcks(String appId, long taskId, int devices, String regPrefix) {
        AckRecord[] out = new AckRecord[devices];
        for (int i = 0; i < devices; i++) {
            out[i] = new AckRecord(appId, regPrefix + i, taskId, 1_000 + i, "b1");
        }
        return out;
    }

    private static void taskReceipts(CallbackDispatcher d, long taskId, int devices, String regPrefix) {
        receipts(d, deviceAcks(APP, taskId, devices, regPrefix));
    }

    /**
     * As the receipt pipeline does: the ack script applies the acks and parks their receipts (leased for
     * {@link #LEASE}), then the dispatcher is handed what was parked.
     */
    private static List<ParkedReceipt> receipts(CallbackDispatcher d, AckRecord... acks) {
        List<ParkedReceipt> parked = applyAcks(LEASE, acks);
        if (!parked.isEmpty()) {
            d.parked(parked);
        }
        return parked;
    }

    /** Applies acks with the real ack script; the receipts it parked. */
    private static List<ParkedReceipt> applyAcks(Duration lease, AckRecord... acks) {
        List<ParkedReceipt> parked = new ArrayList<>();
        for (AppliedAck a : new AckRepository(redis, lease, 100_000, 100_000).applyAll(List.of(acks), System.currentTimeMillis())
                .join()) {
            if (a.parked() != null) {
                parked.add(a.parked());
            }
        }
        return parked;
    }

    private static long counter(long taskId, TaskCounter c) {
        return tasks.find(taskId).join().counters().getOrDefault(c, 0L);
    }

    private double metric(String outcome) {
        return registry.get("tern.callbacks.receipts").tag("outcome", outcome).counter().count();
    }

    /** Receipts (id/regId) in requests the app server answered 2xx, each checked for a valid signature. */
    private List<String> acceptedReceipts(String path) throws Exception {
        List<String> out = new ArrayList<>();
        for (ServeEvent e : app.getAllServeEvents()) {
            if (!e.getRequest().getUrl().equals(path) || e.getResponse().getStatus() / 100 != 2) {
                continue;
            }
            out.addAll(receiptsOf(e));
        }
        return out;
    }

    private static List<String> receiptsOf(ServeEvent e) throws Exception {
        byte[] body = e.getRequest().getBody();
        assertEquals(CallbackDispatcher.sign(SECRET, body), e.getRequest().getHeader(CallbackDispatcher.SIGNATURE_HEADER),
                "signature over the exact body bytes");
        assertEquals(APP, e.getRequest().getHeader(CallbackDispatcher.APP_HEADER));
        JsonNode root = HttpServer.JSON.readTree(body);
        assertEquals(APP, root.get("appId").asText());
        List<String> out = new ArrayList<>();
        for (JsonNode r : root.get("receipts")) {
            out.add(r.get("type").asText() + ":" + r.get("id").asText() + "/" + r.get("regId").asText());
        }
        return out;
    }

    @Test
    void batchesArriveSignedWithAtMost100ReceiptsEach() throws Exception {
        app.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
        CallbackDispatcher d = dispatcher(5, Duration.ofSeconds(2), 10_000, 4);
        String url = url("/cb");
        long task = newTask(url);
        taskReceipts(d, task, 250, "dev-");
        long msgId = IDS.incrementAndGet();
        long now = System.currentTimeMillis();
        new RouteRepository(redis).put(APP, "single-dev", new Route("b1", "e1"), now).join();
        new MessageRepository(redis, POLICY).accept(new NewMessage(msgId, APP, "single-dev", PayloadKind.DATA, "{}",
                now, now + 3_600_000, null, url, "mp")).join();
        receipts(d, new AckRecord(APP, "single-dev", msgId, 5_000, "b1"));

        await().atMost(Duration.ofSeconds(10)).until(() -> acceptedReceipts("/cb").size() == 251);
        List<String> got = acceptedReceipts("/cb");
        assertEquals(251, new HashSet<>(got).size(), "every receipt exactly once");
        assertTrue(got.contains("message:" + msgId + "/single-dev"));
        for (ServeEvent e : app.getAllServeEvents()) {
            int n = HttpServer.JSON.readTree(e.getRequest().getBody()).get("receipts").size();
            assertTrue(n >= 1 && n <= 100, "batch of " + n);
        }
        assertTrue(app.getAllServeEvents().size() >= 3, "250 task receipts need 3 calls at least");
        await().atMost(Duration.ofSeconds(5)).until(() -> counter(task, TaskCounter.CALLBACK_SENT) == 250);
        assertEquals(0, counter(task, TaskCounter.CALLBACK_FAILED));
        assertEquals(251, metric("posted"));
        assertEquals(0, d.pending());
    }

    @Test
    void anAppServerFailingTwiceThenRecoveringStillGetsEveryReceiptOnce() throws Exception {
        String s = "flaky";
        app.stubFor(post(urlEqualTo("/flaky")).inScenario(s).whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(500)).willSetStateTo("failed-once"));
        app.stubFor(post(urlEqualTo("/flaky")).inScenario(s).whenScenarioStateIs("failed-once")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("recovered"));
        app.stubFor(post(urlEqualTo("/flaky")).inScenario(s).whenScenarioStateIs("recovered")
                .willReturn(aResponse().withStatus(204)));
        CallbackDispatcher d = dispatcher(5, Duration.ofSeconds(2), 10_000, 1);
        String url = url("/flaky");
        long task = newTask(url);
        taskReceipts(d, task, 150, "dev-");

        await().atMost(Duration.ofSeconds(10)).until(() -> counter(task, TaskCounter.CALLBACK_SENT) == 150);
        List<String> got = acceptedReceipts("/flaky");
        assertEquals(150, got.size(), "accepted receipts: " + got.size());
        assertEquals(150, new HashSet<>(got).size(), "no receipt accepted twice");
        long failedCalls = app.getAllServeEvents().stream().filter(e -> e.getResponse().getStatus() >= 500).count();
        assertEquals(2, failedCalls);
        assertEquals(2.0, registry.get("tern.callbacks.retries").counter().count());
        assertEquals(0, counter(task, TaskCounter.CALLBACK_FAILED));
        assertEquals(0.0, metric("failed"));
    }

    @Test
    void aServerThatNeverRecoversEndsInFailedCountsAndDoesNotStallAHealthyOne() throws Exception {
        // The dead server hangs past the request timeout: the worst case for a shared sender.
        app.stubFor(post(urlEqualTo("/dead")).willReturn(aResponse().withStatus(200).withFixedDelay(2_000)));
        app.stubFor(post(urlEqualTo("/ok")).willReturn(aResponse().withStatus(200)));
        // 4 attempts of 500 ms each: the dead URL takes > 2 s to give up; the healthy one must not wait for it.
        CallbackDispatcher d = dispatcher(4, Duration.ofMillis(500), 10_000, 2);
        String dead = url("/dead");
        String ok = url("/ok");
        long deadTask = newTask(dead);
        long okTask = newTask(ok);
        for (int round = 0; round < 5; round++) {
            taskReceipts(d, deadTask, 40, "r" + round + "-");
            taskReceipts(d, okTask, 40, "r" + round + "-");
        }

        await().atMost(Duration.ofSeconds(2)).until(() -> counter(okTask, TaskCounter.CALLBACK_SENT) == 200);
        assertEquals(0, counter(deadTask, TaskCounter.CALLBACK_FAILED), "the dead server is still being retried");
        assertEquals(200, new HashSet<>(acceptedReceipts("/ok")).size());

        await().atMost(Duration.ofSeconds(10)).until(() -> counter(deadTask, TaskCounter.CALLBACK_FAILED) == 200);
        assertEquals(0, counter(deadTask, TaskCounter.CALLBACK_SENT));
        assertEquals(200.0, metric("failed"));
        assertEquals(200.0, metric("posted"));
        await().atMost(Duration.ofSeconds(5)).until(() -> d.pending() == 0);
        // Every dead batch was tried exactly max-attempts times (the journal fills as the hung responses end).
        await().atMost(Duration.ofSeconds(8)).untilAsserted(() -> {
            Map<String, Integer> triesPerBody = new HashMap<>();
            for (ServeEvent e : app.getAllServeEvents()) {
                if (e.getRequest().getUrl().equals("/dead")) {
                    triesPerBody.merge(e.getRequest().getBodyAsString(), 1, Integer::sum);
                }
            }
            int receipts = 0;
            for (String body : triesPerBody.keySet()) {
                receipts += HttpServer.JSON.readTree(body).get("receipts").size();
            }
            assertEquals(200, receipts, "every dead receipt was posted");
            triesPerBody.values().forEach(n -> assertEquals(4, n));
        });
    }

    @Test
    void receiptsBeyondTheMemoryCapacityWaitInTheOutboxWithoutBlockingAndAllArrive() throws Exception {
        app.stubFor(post(urlEqualTo("/slow")).willReturn(aResponse().withStatus(200).withFixedDelay(700)));
        CallbackConfig c = new CallbackConfig(1, Duration.ZERO, 3, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(3), 2, 1, CallbackConfig.Targets.allowing("127.0.0.1:" + app.port()),
                new CallbackConfig.Outbox(LEASE, Duration.ofMillis(50), 100_000));
        guard = new CallbackUrlGuard(c.targets(), "it");
        dispatcher = newDispatcher(c);
        String url = url("/slow");
        long task = newTask(url);
        AtomicInteger maxPending = new AtomicInteger();
        Thread watcher = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                maxPending.accumulateAndGet(dispatcher.pending(), Math::max);
            }
        }, "pending-watcher");
        watcher.start();
        taskReceipts(dispatcher, task, 4, "dev-"); // returns at once: parked, not blocked

        await().atMost(Duration.ofSeconds(20)).until(() -> counter(task, TaskCounter.CALLBACK_SENT) == 4);
        watcher.interrupt();
        watcher.join();
        assertTrue(maxPending.get() <= 2, "never more than the capacity in memory: " + maxPending.get());
        Set<String> got = new HashSet<>(acceptedReceipts("/slow"));
        assertEquals(4, got.size());
        assertTrue(registry.get("tern.callbacks.claimed").counter().count() >= 2, "the overflow came from the outbox");
        await().atMost(Duration.ofSeconds(5)).until(() -> new CallbackOutbox(redis).size().join() == 0);
    }

    @Test
    void aNodeStoppedWhileItsAppServerFailsHandsItsReceiptsToTheNextNodeAndNoneIsLost() throws Exception {
        app.stubFor(post(urlEqualTo("/down")).willReturn(aResponse().withStatus(503)));
        CallbackDispatcher first = dispatcher(50, Duration.ofSeconds(2), 10_000, 2);
        String url = url("/down");
        long task = newTask(url);
        taskReceipts(first, task, 120, "dev-");
        await().atMost(Duration.ofSeconds(10)).until(() -> app.getAllServeEvents().size() >= 2);
        first.close(); // mid-retry: what it held goes back to the outbox
        guard.close();
        assertEquals(0, counter(task, TaskCounter.CALLBACK_SENT));

        app.resetAll();
        app.stubFor(post(urlEqualTo("/down")).willReturn(aResponse().withStatus(200)));
        dispatcher(5, Duration.ofSeconds(2), 10_000, 2); // the next node
        await().atMost(Duration.ofSeconds(20)).until(() -> new HashSet<>(acceptedReceipts("/down")).size() == 120);
        await().atMost(Duration.ofSeconds(10)).until(() -> counter(task, TaskCounter.CALLBACK_SENT) == 120);
        assertEquals(0, counter(task, TaskCounter.CALLBACK_FAILED));
    }

    @Test
    void acksAppliedByANodeThatDiedRightAfterTheScriptHaveTheirCallbacksPostedByAnotherNode() throws Exception {
        app.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
        long task = newTask(url("/cb"));
        // The ack script ran and nothing after it: no dispatcher was handed the receipts, no offset committed.
        List<ParkedReceipt> parked = applyAcks(Duration.ofMillis(1_500), deviceAcks(APP, task, 30, "orphan-"));
        assertEquals(30, parked.size());
        assertEquals(30, tasks.find(task).join().counter(TaskCounter.DELIVERED), "the acks are recorded");
        // The Kafka replay of those acks finds them applied already: it parks nothing, so only the outbox has them.
        assertTrue(applyAcks(LEASE, deviceAcks(APP, task, 30, "orphan-")).isEmpty());

        dispatcher(5, Duration.ofSeconds(2), 10_000, 2); // another node
        await().atMost(Duration.ofSeconds(20)).until(() -> new HashSet<>(acceptedReceipts("/cb")).size() == 30);
        await().atMost(Duration.ofSeconds(10)).until(() -> counter(task, TaskCounter.CALLBACK_SENT) == 30);
        await().atMost(Duration.ofSeconds(5)).until(() -> new CallbackOutbox(redis).size().join() == 0);
        assertEquals(30, acceptedReceipts("/cb").size(), "each once");
    }

    @Test
    void aReplayedAckPostsNoSecondCallback() throws Exception {
        app.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
        CallbackDispatcher d = dispatcher(5, Duration.ofSeconds(2), 10_000, 2);
        long task = newTask(url("/cb"));
        AckRecord[] acks = deviceAcks(APP, task, 20, "dev-");
        assertEquals(20, receipts(d, acks).size());
        await().atMost(Duration.ofSeconds(10)).until(() -> counter(task, TaskCounter.CALLBACK_SENT) == 20);

        assertTrue(receipts(d, acks).isEmpty(), "a replay parks nothing");
        // A receipt after the replay: once it is posted, anything the replay had started would have been too.
        receipts(d, new AckRecord(APP, "after", task, 5_000, "b1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> counter(task, TaskCounter.CALLBACK_SENT) == 21);
        await().atMost(Duration.ofSeconds(5)).until(() -> new CallbackOutbox(redis).size().join() == 0);
        List<String> got = acceptedReceipts("/cb");
        assertEquals(21, got.size(), "each receipt posted once: " + got);
        assertEquals(21, new HashSet<>(got).size());
    }

    @Test
    void receiptsWithoutACallbackUrlOrOfUnknownAppsAreNotPosted() throws Exception {
        app.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
        CallbackDispatcher d = dispatcher(2, Duration.ofSeconds(1), 100, 1);
        assertTrue(receipts(d, new AckRecord(APP, "r", newTask(null), 1, "b1")).isEmpty(), "no URL: nothing parked");
        assertEquals(1, receipts(d, new AckRecord("nosecret", "r", newTask("nosecret", url("/cb")), 1, "b1")).size());
        await().atMost(Duration.ofSeconds(3)).until(() -> metric("failed") == 1.0);
        assertEquals(0, app.getAllServeEvents().size(), "an unsigned callback is never sent");
        assertEquals(0, d.pending());
    }

    @Test
    void aStoredUrlThatLeadsInsideIsCheckedAgainAtSendTimeAndNeverPosted() throws Exception {
        // The API refuses such URLs; this one stands for a name whose DNS answer changed after it was accepted.
        WireMockServer inside = new WireMockServer(options().dynamicPort());
        inside.start();
        try {
            inside.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
            app.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
            CallbackDispatcher d = dispatcher(3, Duration.ofSeconds(2), 100, 1);
            String refused = "http://127.0.0.1:" + inside.port() + "/cb";
            long refusedTask = newTask(refused);
            long allowedTask = newTask(url("/cb"));
            taskReceipts(d, refusedTask, 3, "in-");
            taskReceipts(d, allowedTask, 3, "ok-");

            await().atMost(Duration.ofSeconds(10)).until(() -> counter(refusedTask, TaskCounter.CALLBACK_FAILED) == 3
                    && counter(allowedTask, TaskCounter.CALLBACK_SENT) == 3);
            assertEquals(0, inside.getAllServeEvents().size(), "nothing reached the address that is not allowed");
            assertEquals(3.0, metric("failed"));
            assertEquals(0.0, registry.get("tern.callbacks.retries").counter().count(), "a refusal is not retried");
        } finally {
            inside.stop();
        }
    }
}
