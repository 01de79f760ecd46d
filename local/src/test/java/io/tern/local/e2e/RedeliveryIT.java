package io.tern.local.e2e;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.tern.broker.Broker;
import io.tern.client.TernClient;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.buffer.BufferedPush;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.pipeline.group.AckFilterConfig;
import io.tern.pipeline.group.BroadcastFanout;
import io.tern.pipeline.group.RecoveryConfig;
import io.tern.pipeline.group.GroupFanout;
import io.tern.pipeline.group.GroupPushService;
import io.tern.pipeline.id.MsgIdGenerator;
import io.tern.pipeline.single.PushOutcomeView;
import io.tern.pipeline.single.SinglePush;
import io.tern.pipeline.single.SinglePushService;
import io.tern.store.message.StatusMarks;
import io.tern.pipeline.redelivery.Redeliverer;
import io.tern.pipeline.redelivery.RedeliveryConfig;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.link.LinkProof;
import io.tern.runtime.net.Transports;
import io.tern.store.Keys;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.DeliveryChecks;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.message.RedeliveryQueue;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.pipeline.group.GroupTarget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redelivery of single pushes to online devices, against the real platform (two brokers, Redis, Kafka, SDK
 * devices): whatever made the direct PUSH fail, or if it was never made, the device gets the message within
 * seconds without reconnecting, once (no further check is left), and a hopeless one gives up after its
 * attempts. The logic-node side under test is built here from the real classes, so each test controls what
 * that node knows (a stale registry snapshot, a stalling broker); the platform's own logic node does not
 * sweep (its interval is a day), so only the node under test redelivers.
 */
class RedeliveryIT {
    private static final String SECRET = "redelivery-it-secret-" + UUID.randomUUID();
    private static final AtomicInteger nodeIds = new AtomicInteger(900);
    private static PlatformFixture platform;
    private static Devices devices;
    private static RedisStore redis;
    private static RouteRepository routes;
    private static BrokerRegistry registry;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-redeliver", Map.of("broker.cluster-secret", SECRET,
                "logic.cluster-secret", SECRET, "logic.redelivery.sweep-interval", "24h"));
        devices = platform.devices();
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        routes = new RouteRepository(redis);
        registry = new BrokerRegistry(redis);
    }

    @AfterAll
    static void stop() {
        if (devices != null) {
            devices.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    private static RedeliveryConfig quick(int maxAttempts) {
        return new RedeliveryConfig(Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMillis(100),
                Duration.ofMillis(400), maxAttempts, Duration.ofMillis(50), 100, Duration.ofSeconds(5), 100_000, 2,
                Duration.ofMillis(100));
    }

    /** The logic-node side of single pushes: accept, direct PUSH, status marks and the redelivery sweeper. */
    private static final class Node implements AutoCloseable {
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final MessageRepository messages;
        final BrokerLinks links;
        final Redeliverer redeliverer;
        final SinglePushService push;
        final GroupPushService groups;
        final BroadcastFanout fanouts;
        final TaskRepository tasks;

        Node(BrokerDirectory directory, RedeliveryConfig config, Duration replyTimeout) {
            messages = new MessageRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1),
                    Duration.ofHours(24)), new DeliveryChecks(config.checkDelay(), config.maxDue()));
            links = new BrokerLinks("it-node", new LinkProof(SECRET), Duration.ofSeconds(5), Duration.ofSeconds(2),
                    replyTimeout, replyTimeout, 1000, null);
            StatusMarks marks = new StatusMarks(messages, 64, System::currentTimeMillis);
            redeliverer = new Redeliverer(config, new RedeliveryQueue(redis), messages, routes, directory, registry,
                    links, marks, System::currentTimeMillis, meters, "it").start();
            push = new SinglePushService(messages, marks, directory, links,
                    new MsgIdGenerator(nodeIds.incrementAndGet(), System::currentTimeMillis), redeliverer,
                    System::currentTimeMillis, meters);
            QueuePolicy policy = new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24));
            tasks = new TaskRepository(redis, policy);
            GroupFanout fanout = new GroupFanout(routes, tasks, directory, links, config.groupRetries(),
                    config.groupRetryDelay(), meters);
            fanouts = new BroadcastFanout(tasks, directory, links, config.groupRetries(), config.groupRetryDelay(),
                    RecoveryConfig.defaults(), System::currentTimeMillis, meters, "it-node");
            groups = new GroupPushService(tasks, new BroadcastLog(redis), fanout, directory,
                    new MsgIdGenerator(nodeIds.incrementAndGet(), System::currentTimeMillis), System::currentTimeMillis,
                    fanouts, AckFilterConfig.defaults());
        }

        StoredTask task(String appId) {
            long id = groups.createTask(appId, PayloadKind.DATA, "{\"m\":\"task\"}", 600_000, null, null, 0).join();
            return groups.task(appId, id, true).join();
        }

        double count(String outcome) {
            return meters.get("tern.push.redelivery").tag("outcome", outcome).counter().count();
        }

        @Override
        public void close() {
            fanouts.close();
            redeliverer.close();
            links.close();
        }
    }

    private static BrokerDirectory freshDirectory() {
        return new BrokerDirectory(registry, Duration.ofMillis(200), Duration.ofSeconds(2), Clock.systemUTC(),
                "it fresh").start();
    }

    private static TernClient online(String name) {
        TernClient c = devices.start(name);
        await().atMost(Duration.ofSeconds(30)).until(() -> c.state() == TernClient.State.CONNECTED);
        // The broker records the route after its CONNACK: tests read it next.
        await().atMost(Duration.ofSeconds(30)).until(() -> routes.get(platform.appId, devices.regId(name)).join() != null);
        return c;
    }

    private static SinglePush data(String regId, String body) {
        return new SinglePush(regId, PayloadKind.DATA,
                ("{\"m\":\"" + body + "\"}").getBytes(StandardCharsets.UTF_8), 600_000, null, null, null);
    }

    private static Double due(long msgId) {
        return redis.async().zscore(Keys.redeliveryDue(Keys.redeliveryShard(msgId)), Long.toString(msgId)).toCompletableFuture().join();
    }

    /** Delivered once, and no check left that could send it again. */
    private static void receivedOnceWithoutReconnecting(String name, TernClient device, long msgId, MessageRepository m) {
        await().atMost(Duration.ofSeconds(30)).until(() -> !devices.receivedBy(name).isEmpty());
        assertEquals(msgId, devices.receivedBy(name).get(0).msgId());
        await().atMost(Duration.ofSeconds(30)).until(() -> due(msgId) == null);
        await().atMost(Duration.ofSeconds(30)).until(() -> m.find(msgId).join().status() == MessageStatus.DELIVERED);
        assertEquals(1, devices.receivedBy(name).size(), () -> "copies: " + devices.receivedBy(name));
        assertEquals(1, device.stats().connects(), "never reconnected");
    }

    @Test
    void aBufferedPushDrainedTwiceReachesItsOnlineDeviceOnce() {
        TernClient device = online("drain-1");
        String regId = devices.regId("drain-1");
        try (Node node = new Node(freshDirectory(), quick(5), Duration.ofSeconds(3))) {
            // What intake did beyond the permit: the message recorded queued, its record in the buffer.
            NewMessage m = node.push.message(platform.appId, data(regId, "buffered"));
            assertTrue(node.messages.recordQueued(m).join().created());
            assertEquals(MessageStatus.QUEUED, node.messages.find(m.msgId()).join().status());
            BufferedPush record = new BufferedPush(BufferedPush.Kind.SINGLE, m.appId(), m.msgId(), m.regId(), m.kind(),
                    m.payload(), m.createdAtMillis(), m.expiresAtMillis(), null, null, null, 0, null, 1);

            node.push.deliverQueued(record).join();
            node.push.deliverQueued(record).join(); // a drain that died before committing its offset

            receivedOnceWithoutReconnecting("drain-1", device, m.msgId(), node.messages);
            assertEquals(1.0, node.meters.get("tern.push.single").tag("outcome", "duplicate").counter().count(),
                    "the second drain found it accepted and sent nothing");
        }
    }

    @Test
    void aBufferedListPushDrainedTwiceReachesItsOnlineDeviceOnce() {
        TernClient device = online("drain-task-1");
        String regId = devices.regId("drain-task-1");
        try (Node node = new Node(freshDirectory(), quick(5), Duration.ofSeconds(3))) {
            StoredTask task = node.task(platform.appId);
            long taskId = task.body().taskId();
            TaskRepository tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1),
                    Duration.ofHours(24)));
            assertTrue(tasks.markQueued(taskId).join());
            BufferedPush record = new BufferedPush(BufferedPush.Kind.TASK, platform.appId, 0, null, null, null,
                    task.body().createdAtMillis(), task.body().expiresAtMillis(), null, null, null, taskId,
                    new GroupTarget.ListTarget(List.of(regId)).toJson(), 1);

            node.groups.startQueued(record).join();
            node.groups.startQueued(record).join(); // a drain that died before committing its offset

            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.find(taskId).join()
                    .counter(TaskCounter.DELIVERED) == 1);
            assertEquals(TaskState.SENDING, tasks.find(taskId).join().state());
            assertEquals(1, devices.receivedBy("drain-task-1").size(), () -> "copies: "
                    + devices.receivedBy("drain-task-1"));
            assertEquals(taskId, devices.receivedBy("drain-task-1").get(0).msgId());
            assertEquals(1, tasks.find(taskId).join().counter(TaskCounter.TARGETED), "counted once");
            assertEquals(1, device.stats().connects(), "never reconnected");
        }
    }

    @Test
    void anOnlineDeviceWhoseBrokerIsMissingFromTheRegistrySnapshotGetsTheMessageWithinSeconds() {
        TernClient device = online("stale-1");
        String regId = devices.regId("stale-1");
        BrokerDirectory stale = new BrokerDirectory(registry, Duration.ofHours(1), Duration.ofSeconds(2),
                Clock.systemUTC(), "it stale"); // never read: no broker in its snapshot
        assertTrue(stale.snapshot().brokers().isEmpty());
        try (Node node = new Node(stale, quick(5), Duration.ofSeconds(3))) {
            PushOutcomeView answer = node.push.push(platform.appId, data(regId, "stale registry")).join();
            assertEquals(MessageStatus.OFFLINE, answer.status(), "the direct path could not find the broker");

            receivedOnceWithoutReconnecting("stale-1", device, answer.msgId(), node.messages);
            assertEquals(1.0, node.count("redelivered"));
        } finally {
            stale.close();
        }
    }

    @Test
    void aPushWhoseReplyTimesOutIsRedeliveredToTheDevicesCurrentRoute() throws Exception {
        TernClient device = online("moved-1");
        String regId = devices.regId("moved-1");
        Route current = routes.get(platform.appId, regId).join();
        assertNotNull(current);
        CompletableFuture<Frame.PushCommand> stalled = new CompletableFuture<>();
        EventLoopGroup group = Transports.group(1, "it-stall");
        String stallId = "stall-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerDirectory directory = null;
        try {
            Channel stall = stallingBroker(group, stalled);
            int port = ((InetSocketAddress) stall.localAddress()).getPort();
            // Listed with a full load so the dispatcher sends no device there; these devices are connected already.
            registry.heartbeat(new BrokerInfo(stallId, "local", "127.0.0.1:1", "ws://127.0.0.1:1/v1/ws",
                    "127.0.0.1:" + port, 1_000_000, System.currentTimeMillis()), Duration.ofSeconds(60),
                    System.currentTimeMillis()).join();
            directory = freshDirectory();
            BrokerDirectory d = directory;
            await().atMost(Duration.ofSeconds(10)).until(() -> d.get(stallId) != null);
            // The route at accept time points at the broker that will stall.
            routes.put(platform.appId, regId, new Route(stallId, "stalled-epoch"), System.currentTimeMillis()).join();
            try (Node node = new Node(directory, quick(5), Duration.ofMillis(500))) {
                CompletableFuture<PushOutcomeView> answer = node.push.push(platform.appId, data(regId, "after a timeout"));
                stalled.get(30, TimeUnit.SECONDS);
                // While that PUSH waits for a reply that never comes, the device's route is its real one again.
                routes.put(platform.appId, regId, current, System.currentTimeMillis()).join();
                PushOutcomeView view = answer.get(30, TimeUnit.SECONDS);
                assertEquals(MessageStatus.OFFLINE, view.status(), "the stalled broker never answered");

                receivedOnceWithoutReconnecting("moved-1", device, view.msgId(), node.messages);
                assertTrue(node.count("redelivered") >= 1.0);
            }
        } finally {
            registry.deregister(stallId).join();
            if (directory != null) {
                directory.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aMessageAcceptedByANodeThatDiedBeforeSendingIsDeliveredByAnotherNodesSweeper() {
        TernClient device = online("orphan-1");
        String regId = devices.regId("orphan-1");
        BrokerDirectory directory = freshDirectory();
        try (Node survivor = new Node(directory, quick(5), Duration.ofSeconds(3))) {
            // The dead node's last act: the accept (the durable point). No PUSH, no status mark.
            long msgId = 7_000_000_000L + nodeIds.incrementAndGet();
            long now = System.currentTimeMillis();
            MessageRepository dying = new MessageRepository(redis, new QueuePolicy(100, Duration.ofDays(7),
                    Duration.ofDays(1), Duration.ofHours(24)), new DeliveryChecks(Duration.ofSeconds(2), 100_000));
            assertNotNull(dying.accept(new NewMessage(msgId, platform.appId, regId, PayloadKind.DATA, "{\"m\":\"orphan\"}",
                    now, now + 600_000, null, null, null)).join().route());

            receivedOnceWithoutReconnecting("orphan-1", device, msgId, survivor.messages);
            assertEquals(1.0, survivor.count("redelivered"));
        } finally {
            directory.close();
        }
    }

    @Test
    void aRedeliveryThatKeepsFailingGivesUpAfterItsAttemptsAndTheMessageWaitsForTheReconnect() {
        TernClient device = online("lost-1");
        String regId = devices.regId("lost-1");
        Route real = routes.get(platform.appId, regId).join();
        Broker other = platform.cluster.brokers().stream().filter(b -> !b.id().equals(real.brokerId())).findFirst()
                .orElseThrow();
        BrokerDirectory directory = freshDirectory();
        int attempts = 3;
        try (Node node = new Node(directory, quick(attempts), Duration.ofSeconds(3))) {
            // A stale route: the other broker answers NOT_CONNECTED to every attempt.
            routes.put(platform.appId, regId, new Route(other.id(), "stale-epoch"), System.currentTimeMillis()).join();
            long msgId = 7_100_000_000L + nodeIds.incrementAndGet();
            long now = System.currentTimeMillis();
            node.messages.accept(new NewMessage(msgId, platform.appId, regId, PayloadKind.DATA, "{\"m\":\"lost\"}",
                    now, now + 600_000, null, null, null)).join();

            await().atMost(Duration.ofSeconds(30)).until(() -> node.count("gave-up") == 1.0);
            assertNull(due(msgId), "no check left: it never loops");
            assertEquals(attempts, node.count("failed"), "each attempt made once");
            assertEquals(0.0, node.count("redelivered"));
            assertTrue(devices.receivedBy("lost-1").isEmpty());
            assertTrue(redis.async().zscore(Keys.queue(platform.appId, regId), Long.toString(msgId))
                    .toCompletableFuture().join() != null, "still queued for the device");
        } finally {
            directory.close();
        }
        // The reconnect delivers it, as before redelivery existed.
        devices.stop("lost-1");
        TernClient again = online("lost-1");
        await().atMost(Duration.ofSeconds(30)).until(() -> !devices.receivedBy("lost-1").isEmpty());
        assertEquals(1, devices.receivedBy("lost-1").size());
        assertEquals(TernClient.State.CONNECTED, again.state());
        assertEquals(1, device.stats().connects(), "the first session never reconnected: the give-up left it alone");
    }

    /** A broker that proves the cluster secret, takes PUSH commands, and never answers them. */
    private static Channel stallingBroker(EventLoopGroup group, CompletableFuture<Frame.PushCommand> stalled)
            throws InterruptedException {
        return fakeBroker(group, command -> {
            if (command instanceof Frame.PushCommand c) {
                stalled.complete(c);
            }
            return null;
        });
    }

    /** Lists a fake broker in the registry, fully loaded so the dispatcher sends no device there. */
    private static String listed(Channel fake) {
        String id = "fake-" + UUID.randomUUID().toString().substring(0, 8);
        registry.heartbeat(new BrokerInfo(id, "local", "127.0.0.1:1", "ws://127.0.0.1:1/v1/ws",
                "127.0.0.1:" + ((InetSocketAddress) fake.localAddress()).getPort(), 1_000_000, System.currentTimeMillis()),
                Duration.ofSeconds(60), System.currentTimeMillis()).join();
        return id;
    }

    @Test
    void aListPushBatchWhoseReplyTimesOutIsRetriedToTheDevicesCurrentRoute() throws Exception {
        TernClient device = online("listed-1");
        String regId = devices.regId("listed-1");
        Route current = routes.get(platform.appId, regId).join();
        CompletableFuture<Frame.PushBatch> stalled = new CompletableFuture<>();
        EventLoopGroup group = Transports.group(1, "it-stall-batch");
        String fakeId = null;
        BrokerDirectory directory = null;
        try {
            Channel fake = fakeBroker(group, command -> {
                if (command instanceof Frame.PushBatch b) {
                    stalled.complete(b);
                }
                return null;
            });
            fakeId = listed(fake);
            directory = freshDirectory();
            String id = fakeId;
            BrokerDirectory d = directory;
            await().atMost(Duration.ofSeconds(10)).until(() -> d.get(id) != null);
            routes.put(platform.appId, regId, new Route(fakeId, "stalled-epoch"), System.currentTimeMillis()).join();
            try (Node node = new Node(directory, quick(5), Duration.ofMillis(500))) {
                StoredTask task = node.task(platform.appId);
                CompletableFuture<GroupFanout.ChunkResult> result = node.groups.listPush(task, List.of(regId));
                stalled.get(30, TimeUnit.SECONDS);
                routes.put(platform.appId, regId, current, System.currentTimeMillis()).join();

                GroupFanout.ChunkResult r = result.get(30, TimeUnit.SECONDS);
                assertEquals(1, r.written(), "written by the retry round, at the device's real broker");
                await().atMost(Duration.ofSeconds(30)).until(() -> !devices.receivedBy("listed-1").isEmpty());
                assertEquals(task.body().taskId(), devices.receivedBy("listed-1").get(0).msgId());
                assertEquals(1, device.stats().connects(), "never reconnected");
                assertEquals(1.0, node.meters.get("tern.push.group.retried").counter().count());
            }
        } finally {
            if (fakeId != null) {
                registry.deregister(fakeId).join();
            }
            if (directory != null) {
                directory.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aBroadcastWhoseReplyTimesOutIsSentToThatBrokerAgainBoundedly() throws Exception {
        List<Frame.Broadcast> answeredSecond = new CopyOnWriteArrayList<>();
        List<Frame.Broadcast> neverAnswered = new CopyOnWriteArrayList<>();
        EventLoopGroup group = Transports.group(1, "it-stall-bcast");
        String flaky = null;
        String dead = null;
        BrokerDirectory directory = null;
        try {
            // One broker stalls on the first BROADCAST and answers the next (7 connections written);
            // the other never answers.
            flaky = listed(fakeBroker(group, command -> {
                if (command instanceof Frame.Broadcast b) {
                    answeredSecond.add(b);
                    return answeredSecond.size() >= 2 ? new Frame.BroadcastResult(b.correlationId(), 7) : null;
                }
                return null;
            }));
            dead = listed(fakeBroker(group, command -> {
                if (command instanceof Frame.Broadcast b) {
                    neverAnswered.add(b);
                }
                return null;
            }));
            directory = freshDirectory();
            BrokerDirectory d = directory;
            String f = flaky;
            String x = dead;
            await().atMost(Duration.ofSeconds(10)).until(() -> d.get(f) != null && d.get(x) != null);
            RedeliveryConfig twoRetries = quick(5);
            try (Node node = new Node(directory, twoRetries, Duration.ofMillis(500))) {
                // An app with no device anywhere: the real brokers write it to nobody.
                String app = "nobody-" + UUID.randomUUID();
                StoredTask task = node.task(app);
                node.groups.allPush(task).get(10, TimeUnit.SECONDS);

                long taskId = task.body().taskId();
                await().atMost(Duration.ofSeconds(60)).until(() -> node.fanouts.running() == 0);
                assertEquals(7L, node.tasks.find(taskId).join().counter(TaskCounter.SENT),
                        "the flaky broker's second answer");
                assertEquals(2, answeredSecond.size());
                assertEquals(1 + twoRetries.groupRetries(), neverAnswered.size(), "bounded: sent once plus its retries");
            }
        } finally {
            for (String id : new String[]{flaky, dead}) {
                if (id != null) {
                    registry.deregister(id).join();
                }
            }
            if (directory != null) {
                directory.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A broker that proves the cluster secret and answers each command with {@code reply} (null: no answer). */
    private static Channel fakeBroker(EventLoopGroup group, Function<Frame, Frame> reply)
            throws InterruptedException {
        LinkProof proof = new LinkProof(SECRET);
        return new ServerBootstrap().group(group).channel(Transports.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        byte[] challenge = LinkProof.nonce();
                        ch.pipeline().addLast(new FrameDecoder(FrameHeader.INTERNAL_MAX_BODY), FrameEncoder.INSTANCE,
                                new SimpleChannelInboundHandler<Object>() {
                                    @Override
                                    public void channelActive(ChannelHandlerContext ctx) {
                                        ctx.writeAndFlush(new Frame.LinkChallenge(challenge));
                                    }

                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                        if (msg instanceof Frame.LinkAuth a) {
                                            ctx.writeAndFlush(new Frame.LinkAccept(proof.brokerProof(a.nonce(), challenge)));
                                        } else if (msg instanceof Frame f) {
                                            Frame answer = reply.apply(f);
                                            if (answer != null) {
                                                ctx.writeAndFlush(answer);
                                            }
                                        }
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }
}
