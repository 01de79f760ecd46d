package io.tern.pipeline.group;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.pipeline.id.MsgIdGenerator;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.link.LinkProof;
import io.tern.runtime.net.Transports;
import io.tern.store.Keys;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The all push against a real Redis and brokers that speak the internal link protocol (test brokers on real sockets,
 * whose answers the test holds back): the API answer comes once the broadcast is logged and its fan-out recorded,
 * before any broker answered; the task's counters then follow the brokers' answers; and a fan-out left unfinished
 * by a node that stopped is finished by another node, sent only to the brokers that had not answered, each
 * broker's copies counted once. (A node killed outright, whose lease runs out, is BroadcastTakeoverIT's in
 * local, with real brokers; that a broker does not write a re-sent broadcast again is PushCommandHandlerTest's.)
 */
class BroadcastFanoutIT {
    private static final String SECRET = "fanout-it-" + UUID.randomUUID();
    private static final AtomicInteger nodeIds = new AtomicInteger(700);
    private static RedisStore redis;
    private static BrokerRegistry registry;
    private static TaskRepository tasks;
    private static EventLoopGroup group;

    private final List<String> brokerIds = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private BrokerDirectory directory;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        registry = new BrokerRegistry(redis);
        tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1),
                Duration.ofHours(24)));
        group = Transports.group(1, "it-fanout-brokers");
    }

    @AfterAll
    static void disconnect() throws InterruptedException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        redis.close();
    }

    @BeforeEach
    void directory() {
        directory = new BrokerDirectory(registry, Duration.ofMillis(100), Duration.ofSeconds(2), Clock.systemUTC(),
                "it fanout").start();
    }

    @AfterEach
    void stop() {
        nodes.forEach(Node::close);
        brokerIds.forEach(id -> registry.deregister(id).join());
        directory.close();
    }

    /** A logic node's group-push side, with its own broker links and fan-out sweeper. */
    private final class Node implements AutoCloseable {
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final BrokerLinks links = new BrokerLinks("it-fanout-" + nodeIds.incrementAndGet(), new LinkProof(SECRET),
                Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(30), 1000, null);
        final BroadcastFanout fanouts;
        final GroupPushService groups;

        Node(RecoveryConfig recovery) {
            fanouts = new BroadcastFanout(tasks, directory, links, 1, Duration.ofMillis(100), recovery,
                    System::currentTimeMillis, meters, "it-node");
            GroupFanout fanout = new GroupFanout(new RouteRepository(redis), tasks, directory, links, 1,
                    Duration.ofMillis(100), meters);
            groups = new GroupPushService(tasks, new BroadcastLog(redis), fanout, directory,
                    new MsgIdGenerator(nodeIds.incrementAndGet(), System::currentTimeMillis), System::currentTimeMillis,
                    fanouts, AckFilterConfig.defaults());
            nodes.add(this);
        }

        StoredTask task(String appId) {
            long id = groups.createTask(appId, PayloadKind.DATA, "{\"m\":\"all\"}", 600_000, null, null, 0).join();
            return groups.task(appId, id, true).join();
        }

        /** Stops: no more lease renewals, links cut, running fan-outs handed back. */
        @Override
        public void close() {
            fanouts.close();
            links.close();
        }
    }

    private static RecoveryConfig recovery(int maxFanouts) {
        return new RecoveryConfig(Duration.ofMinutes(2), Duration.ofMillis(600), Duration.ofMillis(100), 16, 5,
                maxFanouts, 3);
    }

    /** A BROADCAST a test broker got, and how to answer it. */
    private record Received(Frame.Broadcast frame, ChannelHandlerContext ctx) {
        void answer(int written) {
            ctx.writeAndFlush(new Frame.BroadcastResult(frame.correlationId(), written));
        }
    }

    /** A broker on a real socket that proves the cluster secret and hands every BROADCAST to {@code onBroadcast}. */
    private String broker(BiFunction<Received, Integer, Integer> onBroadcast, List<Received> received)
            throws InterruptedException {
        LinkProof proof = new LinkProof(SECRET);
        Channel server = new ServerBootstrap().group(group).channel(Transports.serverChannel())
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
                                        } else if (msg instanceof Frame.Broadcast b) {
                                            Received r = new Received(b, ctx);
                                            received.add(r);
                                            Integer written = onBroadcast.apply(r, received.size());
                                            if (written != null) {
                                                r.answer(written);
                                            }
                                        }
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        String id = "it-fanout-" + UUID.randomUUID().toString().substring(0, 8);
        registry.heartbeat(new BrokerInfo(id, "local", "127.0.0.1:1", "ws://127.0.0.1:1/v1/ws",
                "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort(), 100, System.currentTimeMillis()),
                Duration.ofSeconds(60), System.currentTimeMillis()).join();
        brokerIds.add(id);
        return id;
    }

    private void listed(int brokers) {
        await().atMost(Duration.ofSeconds(10)).until(() -> brokerIds.stream().limit(brokers)
                .allMatch(id -> directory.get(id) != null));
    }

    private static StoredTask reread(long taskId) {
        return tasks.find(taskId).join();
    }

    private static boolean pending(long taskId) {
        return redis.async().zscore(Keys.fanoutTasks(), Long.toString(taskId)).toCompletableFuture().join() != null;
    }

    @Test
    void theAllPushAnswersBeforeAnyBrokerAndItsCountersFollowTheAnswers() throws Exception {
        List<Received> first = new CopyOnWriteArrayList<>();
        List<Received> second = new CopyOnWriteArrayList<>();
        broker((r, n) -> null, first); // both hold their answers until the test gives them
        broker((r, n) -> null, second);
        listed(2);
        Node node = new Node(recovery(1));
        String app = "fanout-" + UUID.randomUUID();
        StoredTask task = node.task(app);
        long taskId = task.body().taskId();

        Map<String, Object> answer = node.groups.send(task, new GroupTarget.AllTarget()).get(10, TimeUnit.SECONDS);

        assertEquals(Long.toString(taskId), answer.get("taskId"));
        assertEquals("sending", answer.get("state"));
        long seq = (Long) answer.get("broadcastSeq");
        assertTrue(seq > 0);
        assertTrue(pending(taskId), "the unfinished fan-out is recorded for any node to finish");
        await().atMost(Duration.ofSeconds(10)).until(() -> first.size() == 1 && second.size() == 1);
        assertEquals(seq, first.get(0).frame().push().broadcastSeq());
        assertEquals(0, reread(taskId).counter(TaskCounter.SENT), "no broker has answered yet");

        // This node runs one fan-out at most: the next broadcast is refused, not queued without bound.
        StoredTask another = node.task(app);
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> node.groups.allPush(another).get(10, TimeUnit.SECONDS));
        assertEquals(PushError.OVERLOADED, assertInstanceOf(PushException.class, refused.getCause()).error());

        first.get(0).answer(7);
        await().atMost(Duration.ofSeconds(10)).until(() -> reread(taskId).counter(TaskCounter.SENT) == 7);
        assertEquals(7, reread(taskId).counter(TaskCounter.TARGETED));
        assertTrue(pending(taskId), "one broker still to answer");

        second.get(0).answer(5);
        await().atMost(Duration.ofSeconds(10)).until(() -> !pending(taskId));
        StoredTask done = reread(taskId);
        assertEquals(12, done.counter(TaskCounter.SENT));
        assertEquals(12, done.counter(TaskCounter.TARGETED));
        await().atMost(Duration.ofSeconds(10)).until(() -> node.fanouts.running() == 0);
    }

    @Test
    void aFanOutLeftUnfinishedByAStoppedNodeIsFinishedByAnotherCountingEachBrokerOnce() throws Exception {
        List<Received> answered = new CopyOnWriteArrayList<>();
        List<Received> stalled = new CopyOnWriteArrayList<>();
        broker((r, n) -> 3, answered);
        // Never answers the first node; answers whoever sends it later.
        broker((r, n) -> n == 1 ? null : 5, stalled);
        listed(2);
        Node first = new Node(recovery(8));
        Node survivor = new Node(recovery(8));
        StoredTask task = first.task("fanout-" + UUID.randomUUID());
        long taskId = task.body().taskId();

        long seq = first.groups.allPush(task).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> reread(taskId).counter(TaskCounter.SENT) == 3
                && stalled.size() == 1);
        // Leases renewed: the survivor's sweeps leave it alone while the first node lives.
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3))
                .until(() -> stalled.size() == 1 && answered.size() == 1);

        first.close();

        await().atMost(Duration.ofSeconds(20)).until(() -> !pending(taskId));
        StoredTask done = reread(taskId);
        assertEquals(8, done.counter(TaskCounter.SENT), "3 from the broker that answered the first node, 5 from the other");
        assertEquals(8, done.counter(TaskCounter.TARGETED));
        assertEquals(1, answered.size(), "a broker whose answer was recorded is not sent it again");
        assertEquals(2, stalled.size(), "the one that never answered gets it from the survivor");
        assertEquals(seq, stalled.get(1).frame().push().broadcastSeq(), "under the same sequence number");
        assertEquals(taskId, stalled.get(1).frame().push().msgId());
        assertEquals(1.0, survivor.meters.get("tern.push.broadcast.fanouts").tag("outcome", "resumed").counter().count());
    }
}
