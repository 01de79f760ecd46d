package io.tern.broker.broadcast;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.DeviceFrameCodec;
import io.tern.broker.session.Sessions;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BroadcasterTest {
    private SimpleMeterRegistry registry;
    private BrokerMetrics metrics;
    private Sessions sessions;
    private EventLoopGroup group;

    @BeforeEach
    void setUp() {
        registry = new SimpleMeterRegistry();
        metrics = new BrokerMetrics(registry);
        sessions = new Sessions("b1", 1L, 16);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    private static Frame.Push push(long msgId) {
        return new Frame.Push(msgId, 0, PayloadKind.DATA, ("{\"k\":" + msgId + "}").getBytes(StandardCharsets.UTF_8))
                .withBroadcastSeq(msgId);
    }

    /** Counts flushes that reach the socket end of a device pipeline. */
    private static final class Flushes extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            count++;
            ctx.flush();
        }
    }

    /** A device connection as the broker builds it (socket end first), plus a flush counter at the socket end. */
    private EmbeddedChannel device(Flushes flushes) {
        return new EmbeddedChannel(flushes, new DeviceFrameCodec(FrameHeader.DEFAULT_MAX_BODY,
                type -> metrics.frameOut(BrokerMetrics.Listener.TCP, type)));
    }

    /** Every frame written to {@code ch}, decoded from the bytes in the order they would hit the socket. */
    private static List<Frame> written(EmbeddedChannel ch) {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));
        for (Object o; (o = ch.readOutbound()) != null; ) {
            decoder.writeInbound(assertInstanceOf(ByteBuf.class, o));
        }
        List<Frame> frames = new ArrayList<>();
        for (Object f; (f = decoder.readInbound()) != null; ) {
            frames.add((Frame) f);
        }
        return frames;
    }

    private static int outboundMessages(EmbeddedChannel ch) {
        return ch.outboundMessages().size();
    }

    private double deliveries(String result) {
        return registry.get("tern.broker.broadcast.deliveries").tag("result", result).counter().count();
    }

    @Test
    void concurrentBroadcastsReachEachConnectionInOneWriteAndOneFlush() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 64, metrics, 256, 16, 100, Duration.ofMillis(50));
        List<EmbeddedChannel> devices = new ArrayList<>();
        List<Flushes> flushes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Flushes f = new Flushes();
            EmbeddedChannel ch = device(f);
            sessions.open("app", "r" + i, "local", ch, false);
            devices.add(ch);
            flushes.add(f);
        }
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        for (long m = 1; m <= 3; m++) {
            results.add(b.broadcast("app", push(m), ByteBufAllocator.DEFAULT));
        }
        assertEquals(3, b.inFlight());

        for (int i = 0; i < devices.size(); i++) {
            EmbeddedChannel ch = devices.get(i);
            ch.runPendingTasks(); // this connection's loop: the three broadcasts queue up, then one pass
            assertEquals(1, outboundMessages(ch), "the three frames go out as one buffer");
            assertEquals(1, flushes.get(i).count, "one flush for the three broadcasts");
            assertEquals(List.of(push(1), push(2), push(3)), written(ch));
        }
        for (CompletableFuture<Integer> r : results) {
            assertEquals(4, r.join());
        }
        assertEquals(0, b.inFlight());
        assertEquals(12.0, deliveries("written"));
        assertEquals(0.0, registry.get("tern.broker.frames.out").tag("listener", "tcp").tag("type", "push")
                .counter().count(), "copies are bytes: counted once per pass, not per frame by the frame metrics");
    }

    @Test
    void aWebSocketConnectionGetsOneMessagePerFrameAndStillOneFlush() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 64, metrics, 256, 16, 100, Duration.ofMillis(50));
        Flushes flushes = new Flushes();
        EmbeddedChannel ws = device(flushes);
        sessions.open("app", "w", "local", ws, true);
        b.broadcast("app", push(1), ByteBufAllocator.DEFAULT);
        b.broadcast("app", push(2), ByteBufAllocator.DEFAULT);
        ws.runPendingTasks();
        assertEquals(2, outboundMessages(ws), "one buffer per frame: the WebSocket wrapper makes one message of each");
        assertEquals(1, flushes.count);
        assertEquals(List.of(push(1), push(2)), written(ws));
    }

    @Test
    void withParkingOffUnwritableConnectionsAreSkippedAndCountedForEveryBroadcastOfThePass() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 64, metrics, 256, 0, 100, Duration.ofMillis(50));
        EmbeddedChannel ok = device(new Flushes());
        EmbeddedChannel slow = device(new Flushes());
        slow.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        slow.write(Unpooled.wrappedBuffer(new byte[64])); // written, not flushed: over the high mark
        assertFalse(slow.isWritable());
        long queuedBefore = slow.unsafe().outboundBuffer().totalPendingWriteBytes();
        EmbeddedChannel closed = device(new Flushes());
        sessions.open("app", "ok", "local", ok, false);
        sessions.open("app", "slow", "local", slow, false);
        sessions.open("app", "closed", "local", closed, false);
        closed.close(); // still indexed until its close runs on the loop: left out, not counted
        CompletableFuture<Integer> first = b.broadcast("app", push(1), ByteBufAllocator.DEFAULT);
        CompletableFuture<Integer> second = b.broadcast("app", push(2), ByteBufAllocator.DEFAULT);
        ok.runPendingTasks();
        slow.runPendingTasks();
        closed.runPendingTasks();

        assertEquals(1, first.join());
        assertEquals(1, second.join());
        assertEquals(List.of(push(1), push(2)), written(ok));
        assertEquals(0, outboundMessages(slow), "nothing flushed to it");
        assertEquals(queuedBefore, slow.unsafe().outboundBuffer().totalPendingWriteBytes(), "nothing queued to it");
        assertEquals(2.0, deliveries("written"));
        assertEquals(2.0, deliveries("skipped"));
    }

    /** A connection over its high water mark: 64 bytes written and not flushed. */
    private EmbeddedChannel unwritable() {
        EmbeddedChannel slow = device(new Flushes());
        slow.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        slow.write(Unpooled.wrappedBuffer(new byte[64]));
        assertFalse(slow.isWritable());
        return slow;
    }

    private double parked(String result) {
        return registry.get("tern.broker.broadcast.parked").tag("result", result).counter().count();
    }

    @Test
    void anUnwritableConnectionGetsItsBroadcastsInOrderOnceItDrainsAndLaterOnesAfterThem() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 64, metrics, 256, 16, 100, Duration.ofMillis(50));
        EmbeddedChannel slow = unwritable();
        slow.freezeTime();
        sessions.open("app", "slow", "local", slow, false);
        b.broadcast("app", push(1), ByteBufAllocator.DEFAULT);
        b.broadcast("app", push(2), ByteBufAllocator.DEFAULT);
        slow.runPendingTasks();
        assertEquals(2.0, parked("parked"));
        assertEquals(0.0, deliveries("skipped"));

        slow.advanceTimeBy(50, TimeUnit.MILLISECONDS);
        slow.runScheduledPendingTasks();
        assertEquals(0.0, parked("written"), "still not writable: kept");

        slow.flush(); // the socket drained: the 64 bytes went out
        assertTrue(slow.isWritable());
        slow.readOutbound();
        b.broadcast("app", push(3), ByteBufAllocator.DEFAULT); // while 1 and 2 wait: queued behind them
        slow.runPendingTasks();
        slow.advanceTimeBy(50, TimeUnit.MILLISECONDS);
        slow.runScheduledPendingTasks();

        assertEquals(List.of(push(1), push(2), push(3)), written(slow));
        assertEquals(3.0, parked("written"));
        assertEquals(0, b.inFlight());
    }

    @Test
    void parkingIsBoundedPerConnectionAndAClosedConnectionDropsWhatItHeld() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 64, metrics, 256, 2, 100, Duration.ofMillis(50));
        EmbeddedChannel slow = unwritable();
        slow.freezeTime();
        sessions.open("app", "slow", "local", slow, false);
        for (long m = 1; m <= 3; m++) {
            b.broadcast("app", push(m), ByteBufAllocator.DEFAULT);
        }
        slow.runPendingTasks();
        assertEquals(2.0, parked("parked"));
        assertEquals(1.0, deliveries("skipped"), "the third copy is over the per-connection bound");

        slow.unsafe().closeForcibly(); // closed the way a reset does, the loop still running
        assertFalse(slow.isActive());
        slow.advanceTimeBy(50, TimeUnit.MILLISECONDS);
        slow.runScheduledPendingTasks();
        assertEquals(2.0, parked("dropped"), "its device catches up on reconnect");
        assertEquals(0.0, parked("written"));
    }

    @Test
    void broadcastsOfAnotherAppAreLeftForTheirOwnPass() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 64, metrics, 256, 16, 100, Duration.ofMillis(50));
        EmbeddedChannel a = device(new Flushes());
        sessions.open("a", "r", "local", a, false);
        CompletableFuture<Integer> toA = b.broadcast("a", push(1), ByteBufAllocator.DEFAULT);
        CompletableFuture<Integer> toB = b.broadcast("b", push(2), ByteBufAllocator.DEFAULT);
        CompletableFuture<Integer> toA2 = b.broadcast("a", push(3), ByteBufAllocator.DEFAULT);
        a.runPendingTasks();
        assertEquals(List.of(push(1), push(3)), written(a));
        assertEquals(1, toA.join());
        assertEquals(0, toB.join());
        assertEquals(1, toA2.join());
    }

    @Test
    void fullWhenTheLimitIsInFlightAndNotOnceOneFinishes() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 2, metrics, 256, 16, 100, Duration.ofMillis(50));
        EmbeddedChannel ch = device(new Flushes());
        sessions.open("app", "r", "local", ch, false);
        b.broadcast("app", push(1), ByteBufAllocator.DEFAULT);
        assertFalse(b.full());
        b.broadcast("app", push(2), ByteBufAllocator.DEFAULT);
        assertTrue(b.full());
        ch.runPendingTasks();
        assertFalse(b.full());
        assertEquals(0, b.inFlight());
    }

    @Test
    void aPassCoalescesAtMostTheLimitAndTheRestFollowsInOrder() {
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 512, 2, metrics, 256, 16, 100, Duration.ofMillis(50));
        Flushes flushes = new Flushes();
        EmbeddedChannel ch = device(flushes);
        sessions.open("app", "r", "local", ch, false);
        for (long m = 1; m <= 5; m++) {
            b.broadcast("app", push(m), ByteBufAllocator.DEFAULT);
        }
        ch.runPendingTasks();
        assertEquals(3, flushes.count, "passes of 2, 2 and 1");
        assertEquals(List.of(push(1), push(2), push(3), push(4), push(5)), written(ch));
        assertNull(ch.readOutbound());
    }

    /**
     * Real channels sharing one event loop, written in chunks of 2 while broadcasts keep arriving
     * from another thread: every device gets every broadcast exactly once, in order.
     */
    @Test
    void broadcastsArrivingWhileARingRunsReachEveryConnectionOnceInOrder() throws Exception {
        int devices = 7;
        int broadcasts = 40;
        OneLoop loop = new OneLoop(devices);
        loop.openAndHold(devices).countDown();
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 2, 64, metrics, 256, 16, 100, Duration.ofMillis(50));

        List<CompletableFuture<Integer>> results = new ArrayList<>();
        for (long m = 1; m <= broadcasts; m++) {
            results.add(b.broadcast("app", push(m), ByteBufAllocator.DEFAULT));
            if (m % 7 == 0) {
                Thread.sleep(1); // let some rounds start with fewer broadcasts queued
            }
        }
        for (CompletableFuture<Integer> r : results) {
            assertEquals(devices, r.get(5, TimeUnit.SECONDS));
        }
        List<Long> all = LongStream.rangeClosed(1, broadcasts).boxed().toList();
        for (int i = 0; i < devices; i++) {
            assertEquals(all, loop.read(i, broadcasts), "device " + i);
        }
        Thread.sleep(50);
        for (LinkedBlockingQueue<Long> got : loop.received) {
            assertNull(got.poll(), "no copy twice");
        }
        assertTrue(loop.serverFlushes.get() <= devices * broadcasts, "never more than one flush per connection per broadcast");
        assertEquals((double) devices * broadcasts, deliveries("written"));
    }

    /** Connections on one real event loop whose sessions a test opens itself, and what each device read. */
    private final class OneLoop {
        final AtomicInteger serverFlushes = new AtomicInteger();
        final List<Channel> serverSide = new CopyOnWriteArrayList<>();
        final List<LinkedBlockingQueue<Long>> received = new ArrayList<>();
        final LocalAddress address = new LocalAddress("broadcaster-ring-" + System.nanoTime());

        /** Binds and connects {@code devices} devices. */
        OneLoop(int devices) throws InterruptedException {
            group = new DefaultEventLoopGroup(1);
            new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                    .childHandler(new ChannelInitializer<LocalChannel>() {
                        @Override
                        protected void initChannel(LocalChannel ch) {
                            ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
                                @Override
                                public void flush(ChannelHandlerContext ctx) {
                                    serverFlushes.incrementAndGet();
                                    ctx.flush();
                                }
                            }, new DeviceFrameCodec(FrameHeader.DEFAULT_MAX_BODY,
                                    type -> metrics.frameOut(BrokerMetrics.Listener.TCP, type)));
                            serverSide.add(ch);
                        }
                    }).bind(address).sync();
            for (int i = 0; i < devices; i++) {
                connect();
            }
        }

        /**
         * Opens the sessions of devices 0 to {@code count - 1}, then holds the loop until the latch is counted
         * down, so that what a test queues meanwhile runs in the order it was queued.
         */
        CountDownLatch openAndHold(int count) throws InterruptedException {
            group.next().submit(() -> {
                for (int i = 0; i < count; i++) {
                    open(i);
                }
            }).sync();
            CountDownLatch release = new CountDownLatch(1);
            group.next().submit(() -> {
                release.await();
                return null;
            });
            return release;
        }

        /** Connects a device; its session is not opened yet. */
        private void connect() throws InterruptedException {
            LinkedBlockingQueue<Long> got = new LinkedBlockingQueue<>();
            received.add(got);
            int before = serverSide.size();
            new Bootstrap().group(group).channel(LocalChannel.class)
                    .handler(new ChannelInitializer<LocalChannel>() {
                        @Override
                        protected void initChannel(LocalChannel ch) {
                            ch.pipeline().addLast(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            got.add(((Frame.Push) msg).msgId());
                                        }
                                    });
                        }
                    }).connect(address).sync();
            await().atMost(Duration.ofSeconds(5)).until(() -> serverSide.size() == before + 1);
        }

        void open(int device) {
            sessions.open("app", "r" + device, "local", serverSide.get(device), false);
        }

        /** Runs {@code task} on the loop behind what is queued now and then behind one more turn of the queue. */
        void afterOneTurn(Runnable task) {
            group.next().execute(() -> group.next().execute(task));
        }

        List<Long> read(int device, int count) throws InterruptedException {
            List<Long> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Long m = received.get(device).poll(5, TimeUnit.SECONDS);
                if (m == null) {
                    break;
                }
                out.add(m);
            }
            return out;
        }
    }

    /**
     * The loop runs in order: the writer's first task (device 0 written with broadcast 1), then broadcast 2
     * arrives while the ring is at device 1: devices 1 and 2 get both in one write, device 0 gets 2 alone.
     */
    @Test
    void aBroadcastThatComesWhileTheRingRunsJoinsTheWritesOfTheConnectionsStillAhead() throws Exception {
        OneLoop loop = new OneLoop(3);
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 1, 64, metrics, 256, 16, 100, Duration.ofMillis(50));
        CompletableFuture<Integer> second = new CompletableFuture<>();
        CountDownLatch release = loop.openAndHold(3);
        CompletableFuture<Integer> first = b.broadcast("app", push(1), ByteBufAllocator.DEFAULT);
        loop.afterOneTurn(() -> b.broadcast("app", push(2), ByteBufAllocator.DEFAULT).whenComplete((n, e) -> second.complete(n)));
        release.countDown();

        assertEquals(3, first.get(5, TimeUnit.SECONDS));
        assertEquals(3, second.get(5, TimeUnit.SECONDS));
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(1L, 2L), loop.read(i, 2), "device " + i + " in order");
        }
        assertEquals(5, loop.serverFlushes.get(), "device 0 twice, devices 1 and 2 once for both (two passes: 6)");
        assertEquals(6.0, deliveries("written"));
    }

    /**
     * A device that connects while the ring runs is not in its snapshot: a broadcast that comes after it must
     * not join that ring (the device would miss it) but go out on the next ring, which has the device.
     */
    @Test
    void aBroadcastDoesNotJoinARingOlderThanAConnectionItMustReach() throws Exception {
        OneLoop loop = new OneLoop(4);
        Broadcaster b = new Broadcaster("b1", sessions.apps(), 1, 64, metrics, 256, 16, 100, Duration.ofMillis(50));
        CompletableFuture<Integer> second = new CompletableFuture<>();
        CountDownLatch release = loop.openAndHold(3);
        CompletableFuture<Integer> first = b.broadcast("app", push(1), ByteBufAllocator.DEFAULT);
        loop.afterOneTurn(() -> {
            loop.open(3); // connects after the ring's snapshot, before broadcast 2
            b.broadcast("app", push(2), ByteBufAllocator.DEFAULT).whenComplete((n, e) -> second.complete(n));
        });
        release.countDown();

        assertEquals(3, first.get(5, TimeUnit.SECONDS), "broadcast 1 came before device 3");
        assertEquals(4, second.get(5, TimeUnit.SECONDS));
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(1L, 2L), loop.read(i, 2), "device " + i);
        }
        assertEquals(List.of(2L), loop.read(3, 1));
    }
}
