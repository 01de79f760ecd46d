package io.tern.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that never authenticate, as an attacker would run them, against a real broker. Figures
 * are printed with the prefix "[hostile]" and recorded in docs/benchmarks.md ("Hostile clients").
 */
class HostileClientsIT {
    private static final int IDLE_CONNECTIONS = 5_000;
    private static final int BAD_TOKEN_CONNECTS = 20_000;

    @Test
    void connectionsThatNeverSendConnectAreAllClosedAtTheHandshakeTimeout() throws Exception {
        // A burst this high keeps the failed-handshake limit out of this test: it is about the timer.
        try (Broker broker = Broker.start(TestBrokers.config(Map.of("broker.handshake-timeout", "2s",
                "broker.failed-handshake-burst", "1000000")))) {
            InetSocketAddress target = broker.tcpAddress();
            List<SocketChannel> clients = new ArrayList<>(IDLE_CONNECTIONS);
            Map<SocketChannel, ByteBuffer> firstBytes = new java.util.HashMap<>();
            try (Selector selector = Selector.open()) {
                long start = System.nanoTime();
                // Batches of 500 stay inside the accept backlog (somaxconn 4096 here).
                for (int i = 0; i < IDLE_CONNECTIONS; i++) {
                    SocketChannel c = SocketChannel.open(target);
                    c.configureBlocking(false);
                    c.register(selector, SelectionKey.OP_READ);
                    clients.add(c);
                    firstBytes.put(c, ByteBuffer.allocate(16));
                }
                long opened = System.nanoTime();
                AtomicInteger closedByBroker = new AtomicInteger();
                Map<ReasonCode, Integer> reasons = new EnumMap<>(ReasonCode.class);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                long lastClose = 0;
                ByteBuffer sink = ByteBuffer.allocate(256);
                while (closedByBroker.get() < IDLE_CONNECTIONS && System.nanoTime() < deadline) {
                    selector.select(1000);
                    for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                        SelectionKey k = it.next();
                        it.remove();
                        SocketChannel c = (SocketChannel) k.channel();
                        ByteBuffer head = firstBytes.get(c);
                        int n;
                        try {
                            n = head.hasRemaining() ? c.read(head) : c.read(sink.clear());
                        } catch (IOException reset) {
                            n = -1;
                        }
                        if (n < 0) {
                            k.cancel();
                            c.close();
                            closedByBroker.incrementAndGet();
                            lastClose = System.nanoTime();
                            reasons.merge(reasonOf(head), 1, Integer::sum);
                        }
                    }
                }
                double openSeconds = (opened - start) / 1e9;
                double closeSeconds = (lastClose - opened) / 1e9;
                System.out.printf("[hostile] %d idle TCP connections opened in %.1f s; all closed by the broker %.1f s "
                                + "after the last was opened (handshake timeout 2 s); reasons %s%n",
                        IDLE_CONNECTIONS, openSeconds, closeSeconds, reasons);
                assertEquals(IDLE_CONNECTIONS, closedByBroker.get(), "every idle connection closed by the broker");
                assertEquals(Map.of(ReasonCode.HANDSHAKE_TIMEOUT, IDLE_CONNECTIONS), reasons);
            } finally {
                for (SocketChannel c : clients) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aBadTokenFloodFromOneAddressIsRefusedServerBusyCostsLittleAndMemoryComesBack() throws Exception {
        try (Broker broker = Broker.start(TestBrokers.config(Map.of("broker.failed-handshake-rate", "5",
                "broker.failed-handshake-burst", "20")))) {
            InetSocketAddress target = broker.tcpAddress();
            byte[] badConnect = encode(new Frame.Connect("flood-app", "flood-reg", "bad.token", 0));
            // Warm up the paths the flood takes, then take the baseline.
            flood(target, badConnect, 2_000, 8, new EnumMap<>(ReasonCode.class));
            long baseline = settledRssKiB();
            String baselineParts = memoryParts();

            AtomicLong peak = new AtomicLong(baseline);
            ScheduledSampler sampler = new ScheduledSampler(peak);
            Map<ReasonCode, Integer> reasons = new EnumMap<>(ReasonCode.class);
            long start = System.nanoTime();
            flood(target, badConnect, BAD_TOKEN_CONNECTS, 8, reasons);
            double seconds = (System.nanoTime() - start) / 1e9;
            sampler.stop();

            // A device at another address is not affected by the flood.
            String app = TestBrokers.uniqueApp();
            ByteBuffer other = exchange(target, "127.0.0.2", encode(new Frame.Connect(app, "r2", TestBrokers.token(app, "r2"), 0)));
            assertEquals(FrameType.CONNACK.code(), other.get(1), "a device at another address still gets CONNACK");

            long after = settledRssKiB();
            System.out.println("[hostile] memory before: " + baselineParts + "; after: " + memoryParts());
            int busy = reasons.getOrDefault(ReasonCode.SERVER_BUSY, 0);
            int verified = reasons.getOrDefault(ReasonCode.TOKEN_INVALID, 0);
            System.out.printf("[hostile] %d bad-token CONNECTs from 127.0.0.1 in %.1f s (%.0f/s, 8 client threads): "
                            + "%d TOKEN_INVALID (verified), %d SERVER_BUSY (refused at accept, not verified), other %s; "
                            + "test-JVM RSS (broker in-process) baseline %d MiB, peak %d MiB, after %d MiB (%+.1f %%)%n",
                    BAD_TOKEN_CONNECTS, seconds, BAD_TOKEN_CONNECTS / seconds, verified, busy, reasons,
                    baseline / 1024, peak.get() / 1024, after / 1024, 100.0 * (after - baseline) / baseline);
            assertEquals(BAD_TOKEN_CONNECTS, verified + busy, "every connection ended in TOKEN_INVALID or SERVER_BUSY: " + reasons);
            // Burst 20 plus 5 per second over the flood, with room for a slow machine.
            assertTrue(verified <= 20 + 5 * Math.ceil(seconds) + 5, verified + " verified in " + seconds + " s");
            assertTrue(after <= baseline * 1.10, "RSS after " + after + " KiB vs baseline " + baseline + " KiB");
        }
    }

    @Test
    void aWebSocketTextMessageCarryingAConnectIsRefusedNotAnswered() {
        try (Broker broker = Broker.start(TestBrokers.config(Map.of()))) {
            String app = TestBrokers.uniqueApp();
            try (FrameClient device = FrameClient.webSocket(broker.wsAddress())) {
                device.sendText(encode(new Frame.Connect(app, "r1", TestBrokers.token(app, "r1"), 0)));
                device.expectDisconnect(ReasonCode.MALFORMED_FRAME);
            }
            assertEquals(0, broker.connectionCount(), "no session was opened");
        }
    }

    private static byte[] encode(Frame f) {
        ByteBuf b = FrameCodec.encode(f, ByteBufAllocator.DEFAULT);
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    /** The reason of the DISCONNECT at the start of what a connection received (header 8 bytes, then u16). */
    private static ReasonCode reasonOf(ByteBuffer head) {
        if (head.position() < 10 || head.get(1) != FrameType.DISCONNECT.code()) {
            return ReasonCode.OK; // no DISCONNECT: counted apart, and the test fails on it
        }
        return ReasonCode.fromCode(((head.get(8) & 0xff) << 8) | (head.get(9) & 0xff));
    }

    /** {@code count} connections, each: connect, send {@code connect}, read to EOF; tallies the DISCONNECT reasons. */
    private static void flood(InetSocketAddress target, byte[] connect, int count, int threads,
                              Map<ReasonCode, Integer> reasons) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger next = new AtomicInteger();
        List<Future<Map<ReasonCode, Integer>>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            results.add(pool.submit(() -> {
                Map<ReasonCode, Integer> mine = new EnumMap<>(ReasonCode.class);
                while (next.getAndIncrement() < count) {
                    mine.merge(reasonOf(exchange(target, "127.0.0.1", connect)), 1, Integer::sum);
                }
                return mine;
            }));
        }
        for (Future<Map<ReasonCode, Integer>> f : results) {
            f.get(5, TimeUnit.MINUTES).forEach((k, v) -> reasons.merge(k, v, Integer::sum));
        }
        pool.shutdownNow();
    }

    /**
     * Connects from {@code localHost}, sends {@code connect} and reads until the broker closes
     * (reading stops after 10 s for a connection the broker keeps, as after a CONNACK).
     * @return the first 16 bytes received
     */
    private static ByteBuffer exchange(InetSocketAddress target, String localHost, byte[] connect) {
        ByteBuffer head = ByteBuffer.allocate(16);
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(localHost, 0));
            s.connect(target);
            s.setSoTimeout(head.capacity() > 0 ? 10_000 : 0);
            try {
                s.getOutputStream().write(connect);
            } catch (IOException refusedBeforeWrite) {
                // the broker may close a limited source before the CONNECT is written
            }
            InputStream in = s.getInputStream();
            byte[] buf = new byte[512];
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    head.put(buf, 0, Math.min(n, head.remaining()));
                    if (head.position() >= 2 && head.get(1) == FrameType.CONNACK.code()) {
                        break; // authenticated: the broker keeps the connection
                    }
                }
            } catch (IOException reset) {
                // a reset after the DISCONNECT was read
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return head;
    }

    /** RSS of this JVM (the broker runs in it) once a full GC has run and the value stops moving. */
    private static long settledRssKiB() throws Exception {
        long last = -1;
        for (int i = 0; i < 10; i++) {
            System.gc();
            Thread.sleep(300); // lets the concurrent uncommit run between readings; the loop stops on a stable value
            long now = rssKiB();
            if (last > 0 && Math.abs(now - last) < last / 100) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** Where the JVM's memory sits: heap committed/used, non-heap committed, Netty direct, threads. */
    private static String memoryParts() {
        var mem = java.lang.management.ManagementFactory.getMemoryMXBean();
        return String.format("heap committed %d MiB used %d MiB, non-heap committed %d MiB, netty direct %d MiB, threads %d",
                mem.getHeapMemoryUsage().getCommitted() >> 20, mem.getHeapMemoryUsage().getUsed() >> 20,
                mem.getNonHeapMemoryUsage().getCommitted() >> 20,
                io.netty.util.internal.PlatformDependent.usedDirectMemory() >> 20,
                java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount());
    }

    static long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** Samples RSS every 100 ms while the flood runs. */
    private static final class ScheduledSampler {
        private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

        ScheduledSampler(AtomicLong peak) {
            timer.scheduleAtFixedRate(() -> peak.accumulateAndGet(rssKiB(), Math::max), 0, 100, TimeUnit.MILLISECONDS);
        }

        void stop() {
            timer.shutdownNow();
        }
    }
}
