package io.tern.runtime.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.http.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /metrics renders every family, or with {@code name[]} only those named. */
class ObservabilityTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Observability observability;
    private static HttpServer server;

    @BeforeAll
    static void start() {
        observability = new Observability("test", "t1");
        Gauge.builder("tern.test.connections", () -> 7).register(observability.registry());
        Counter.builder("tern.test.frames").register(observability.registry()).increment(3);
        server = observability.addRoutes(HttpServer.builder("metrics-test", observability.registry()))
                .start(new HttpEndpoint("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        server.close();
        observability.close();
    }

    private static String get(String pathAndQuery) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.address().getPort() + pathAndQuery)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    @Test
    void withoutANameFilterEveryFamilyIsRendered() throws Exception {
        String body = get("/metrics");
        assertTrue(body.contains("tern_test_connections{"), body);
        assertTrue(body.contains("tern_test_frames_total{"), body);
        assertTrue(body.contains("jvm_threads_live_threads{"), body);
    }

    @Test
    void aNameFilterRendersOnlyTheNamedFamilies() throws Exception {
        String body = get("/metrics?name%5B%5D=tern_test_connections&name[]=tern_test_frames");
        assertTrue(body.contains("tern_test_connections{"), body);
        assertTrue(body.lines().anyMatch(l -> l.startsWith("tern_test_connections{") && l.endsWith(" 7.0")), body);
        assertTrue(body.contains("tern_test_frames_total{"), body);
        assertFalse(body.contains("jvm_"), body);
    }
}
