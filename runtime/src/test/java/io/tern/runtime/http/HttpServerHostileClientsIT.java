package io.tern.runtime.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.runtime.config.HttpEndpoint;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slowloris, idle keep-alive hoarding and connection floods against a real {@link HttpServer} on
 * loopback. Figures are printed with the prefix "[hostile-http]" (docs/benchmarks.md, "Hostile clients").
 */
class HttpServerHostileClientsIT {
    private static final byte[] GET = ("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    private static HttpServer server(HttpLimits limits) {
        return HttpServer.builder("hostile-test", new SimpleMeterRegistry())
                .route(HttpMethod.GET, "/ok", r -> CompletableFuture.completedFuture(HttpResponse.ok(java.util.Map.of("ok", true))))
                .limits(limits)
                .start(new HttpEndpoint("127.0.0.1", 0));
    }

    @Test
    void slowlorisConnectionsAreCutOffAtTheDeadlineWhileANormalClientIsServed() throws Exception {
        int slow = 500;
        Duration deadline = Duration.ofSeconds(3);
        try (HttpServer server = server(new HttpLimits(deadline, Duration.ofSeconds(60), 10_000, 1_000))) {
            InetSocketAddress target = server.address();
            List<SocketChannel> clients = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < slow; i++) {
                SocketChannel c = SocketChannel.open(target);
                clients.add(c);
            }
            HttpClient normal = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            AtomicInteger served = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicInteger closed = new AtomicInteger();
            long[] lastClose = {0};
            // One byte of the request line per second per connection, until the server closes it.
            int sent = 0;
            while (closed.get() < slow && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30)) {
                for (SocketChannel c : clients) {
                    if (!c.isOpen()) {
                        continue;
                    }
                    try {
                        c.write(ByteBuffer.wrap(GET, sent % GET.length, 1));
                    } catch (IOException closedByServer) {
                        c.close();
                        closed.incrementAndGet();
                        lastClose[0] = System.nanoTime();
                    }
                }
                sent++;
                java.net.http.HttpResponse<String> r = normal.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.getPort() + "/ok"))
                        .timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    served.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
                Thread.sleep(1000); // the attack's own pace: 1 byte/s
            }
            double seconds = (lastClose[0] - start) / 1e9;
            System.out.printf("[hostile-http] %d slowloris connections (1 byte/s): all closed %.1f s after the first was opened "
                            + "(deadline %d s; a closed socket is noticed by the next 1-byte writes, so up to 2 s later); "
                            + "normal client meanwhile: %d requests served, %d failed; server connections now %d%n",
                    slow, seconds, deadline.toSeconds(), served.get(), failed.get(), server.openConnections());
            assertEquals(slow, closed.get(), "every slowloris connection closed");
            assertTrue(seconds < deadline.toSeconds() + 5, "closed after " + seconds + " s");
            assertEquals(0, failed.get());
            assertTrue(served.get() >= 3, "the normal client was served all along: " + served.get());
        }
    }

    @Test
    void idleKeepAliveConnectionsBeyondTheCapAreClosedOldestFirst() throws Exception {
        int cap = 100;
        int total = 2_000 + cap;
        try (HttpServer server = server(new HttpLimits(Duration.ofSeconds(10), Duration.ofSeconds(120), 10_000, cap));
             Selector selector = Selector.open()) {
            List<SocketChannel> clients = new ArrayList<>(total);
            ByteBuffer buf = ByteBuffer.allocate(4096);
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                SocketChannel c = SocketChannel.open(server.address());
                c.write(ByteBuffer.wrap(GET));
                buf.clear();
                c.read(buf); // the response (small, one read); the connection stays open (keep-alive)
                assertTrue(new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"));
                clients.add(c);
            }
            for (SocketChannel c : clients) {
                c.configureBlocking(false);
                c.register(selector, SelectionKey.OP_READ);
            }
            AtomicInteger closed = new AtomicInteger();
            List<Integer> closedIndexes = new ArrayList<>();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (closed.get() < total - cap && System.nanoTime() < end) {
                selector.select(500);
                for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey k = it.next();
                    it.remove();
                    SocketChannel c = (SocketChannel) k.channel();
                    int n;
                    try {
                        n = c.read(buf.clear());
                    } catch (IOException reset) {
                        n = -1;
                    }
                    if (n < 0) {
                        k.cancel();
                        closedIndexes.add(clients.indexOf(c));
                        c.close();
                        closed.incrementAndGet();
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == cap);
            System.out.printf("[hostile-http] %d idle keep-alive connections, idle cap %d: %d closed by the server "
                            + "(oldest first), %d still open, %.1f s for the whole run%n",
                    total, cap, closed.get(), server.openConnections(), seconds);
            assertEquals(total - cap, closed.get());
            assertTrue(closedIndexes.stream().allMatch(i -> i < total - cap), "only the oldest were closed");
            for (SocketChannel c : clients) {
                c.close();
            }
        }
    }

    @Test
    void aConnectionOverTheCapIsAnswered503AndClosed() throws Exception {
        try (HttpServer server = server(new HttpLimits(Duration.ofSeconds(10), Duration.ofSeconds(60), 20, 20))) {
            List<SocketChannel> held = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                held.add(SocketChannel.open(server.address()));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 20);
            try (SocketChannel extra = SocketChannel.open(server.address())) {
                ByteBuffer buf = ByteBuffer.allocate(1024);
                while (extra.read(buf) >= 0) {
                    // until the server closes
                }
                String answer = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
                assertTrue(answer.contains("\"code\":\"server_busy\""), answer);
            }
            for (SocketChannel c : held) {
                c.close();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        }
    }

    @Test
    void aRequestThatIsNotCompleteByTheDeadlineIsAnswered408() throws Exception {
        try (HttpServer server = server(new HttpLimits(Duration.ofMillis(500), Duration.ofSeconds(60), 100, 100));
             SocketChannel c = SocketChannel.open(server.address())) {
            c.write(ByteBuffer.wrap("GET /ok HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buf = ByteBuffer.allocate(1024);
            while (c.read(buf) >= 0) {
                // until the server closes
            }
            String answer = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
            assertTrue(answer.contains("\"code\":\"request_timeout\""), answer);
        }
    }
}
