package io.tern.runtime.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.runtime.config.HttpEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Failures the role says mean "store unreachable" are answered 503 with Retry-After; others stay 500. */
class StoreUnavailableAnswerTest {
    /** Stands in for a store client's connection failure. */
    static final class Down extends RuntimeException {
        Down() {
            super("store down");
        }
    }

    private static HttpServer server;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        server = HttpServer.builder("outage-test", new SimpleMeterRegistry())
                .storeUnavailableWhen(e -> e instanceof Down)
                .route(HttpMethod.GET, "/async-down", req -> CompletableFuture.failedFuture(
                        new CompletionException(new Down())))
                .route(HttpMethod.GET, "/thrown-down", req -> {
                    throw new Down();
                })
                .route(HttpMethod.GET, "/bug", req -> CompletableFuture.failedFuture(new IllegalStateException("bug")))
                .start(new HttpEndpoint("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aStoreFailureFailedOrThrownIs503StoreUnavailableWithRetryAfter() throws Exception {
        for (String path : new String[]{"/async-down", "/thrown-down"}) {
            HttpResponse<String> r = get(path);
            assertEquals(503, r.statusCode(), path);
            assertEquals("1", r.headers().firstValue("Retry-After").orElse(null), path);
            assertTrue(r.body().contains("\"code\":\"store_unavailable\""), r.body());
        }
    }

    @Test
    void anyOtherFailureStays500() throws Exception {
        HttpResponse<String> r = get("/bug");
        assertEquals(500, r.statusCode());
        assertTrue(r.body().contains("\"code\":\"internal_error\""), r.body());
    }
}
