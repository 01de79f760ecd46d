package io.tern.client.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * Stand-in for the dispatcher in the SDK's own tests: answers {@code GET /v1/dispatch} with the
 * configured broker lists and a token {@code token-N} for the N-th request, or with an error.
 */
public final class StubDispatcher implements AutoCloseable {
    private final HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private final Queue<URI> requestUris = new ConcurrentLinkedQueue<>();
    private volatile List<String> brokers = List.of();
    private volatile List<String> wsBrokers = List.of();
    /** Given the 1-based request number, an error status for it, or 200 for a normal answer. */
    private volatile IntFunction<Integer> statusFor = n -> 200;

    public StubDispatcher() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/v1/dispatch", this::handle);
        server.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public StubDispatcher brokers(String... addresses) {
        this.brokers = List.of(addresses);
        return this;
    }

    public StubDispatcher wsBrokers(String... addresses) {
        this.wsBrokers = List.of(addresses);
        return this;
    }

    public StubDispatcher statusFor(IntFunction<Integer> statusFor) {
        this.statusFor = statusFor;
        return this;
    }

    public int requests() {
        return requests.get();
    }

    public Queue<URI> requestUris() {
        return requestUris;
    }

    private void handle(HttpExchange ex) throws IOException {
        int n = requests.incrementAndGet();
        requestUris.add(ex.getRequestURI());
        int status = statusFor.apply(n);
        String body;
        if (status == 200) {
            body = "{\"brokers\":" + json(brokers) + ",\"wsBrokers\":" + json(wsBrokers)
                    + ",\"token\":\"token-" + n + "\",\"expiresAt\":" + (System.currentTimeMillis() + 3_600_000)
                    + ",\"region\":\"north\",\"future\":{\"field\":[1,2]}}";
        } else {
            body = "{\"code\":\"UNAVAILABLE\",\"message\":\"try later\"}";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String json(List<String> list) {
        return list.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(",", "[", "]"));
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
