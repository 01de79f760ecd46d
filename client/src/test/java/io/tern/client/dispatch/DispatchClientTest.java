package io.tern.client.dispatch;

import com.sun.net.httpserver.HttpServer;
import io.tern.client.testing.StubDispatcher;
import io.tern.protocol.token.DispatchSignature;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DispatchClientTest {
    private static final DeviceCredentials DEVICE = StubDispatcher.credentials("demo", "dev-1");
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private HttpServer raw;

    @AfterEach
    void stopRaw() {
        if (raw != null) {
            raw.stop(0);
        }
    }

    @Test
    void readsTheAnswerAndIgnoresUnknownFields() throws Exception {
        try (StubDispatcher stub = new StubDispatcher().brokers("127.0.0.1:7001", "127.0.0.1:7002")
                .wsBrokers("ws://127.0.0.1:8001/v1/ws")) {
            DispatchClient client = new DispatchClient(HTTP, stub.uri(), Duration.ofSeconds(5));
            long ts = System.currentTimeMillis();
            DeviceCredentials device = StubDispatcher.credentials("demo app", "dev/1");
            Dispatch d = client.dispatch("demo app", device, ts).get(5, TimeUnit.SECONDS);
            assertEquals(List.of("127.0.0.1:7001", "127.0.0.1:7002"), d.brokers());
            assertEquals(List.of("ws://127.0.0.1:8001/v1/ws"), d.wsBrokers());
            assertEquals("token-1", d.token());
            assertTrue(d.expiresAtMillis() > System.currentTimeMillis());
            assertEquals("appId=demo+app&regId=dev%2F1&ts=" + ts + "&sign="
                    + DispatchSignature.sign(device.deviceSecret(), "demo app", "dev/1", ts), stub.requestUris().peek().getRawQuery());
        }
    }

    @Test
    void namesTheHomeRegionWhenTheDeviceHasOne() throws Exception {
        try (StubDispatcher stub = new StubDispatcher().brokers("127.0.0.1:7001")) {
            DispatchClient client = new DispatchClient(HTTP, stub.uri(), Duration.ofSeconds(5)).withHomeRegion("north");
            client.dispatch("demo", DEVICE, System.currentTimeMillis()).get(5, TimeUnit.SECONDS);
            assertTrue(stub.requestUris().peek().getRawQuery().endsWith("&region=north"),
                    stub.requestUris().peek().getRawQuery());
        }
    }

    @Test
    void errorAnswerBecomesADispatchException() throws Exception {
        try (StubDispatcher stub = new StubDispatcher().statusFor(n -> 503)) {
            DispatchClient client = new DispatchClient(HTTP, stub.uri(), Duration.ofSeconds(5));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> client.dispatch("demo", DEVICE, System.currentTimeMillis()).get(5, TimeUnit.SECONDS));
            DispatchException d = assertInstanceOf(DispatchException.class, e.getCause());
            assertEquals(503, d.status());
            assertEquals("UNAVAILABLE", d.code());
            assertNull(d.field());
        }
    }

    @Test
    void answerWithoutTokenIsRejected() throws Exception {
        serve(200, "{\"brokers\":[\"127.0.0.1:1\"]}");
        DispatchClient client = new DispatchClient(HTTP, rawUri(), Duration.ofSeconds(5));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client.dispatch("demo", DEVICE, System.currentTimeMillis()).get(5, TimeUnit.SECONDS));
        assertEquals("token", assertInstanceOf(DispatchException.class, e.getCause()).field());
    }

    @Test
    void oversizedAnswerIsRejected() throws Exception {
        serve(200, "{\"token\":\"t\",\"pad\":\"" + "x".repeat(DispatchClient.MAX_BODY_BYTES) + "\"}");
        DispatchClient client = new DispatchClient(HTTP, rawUri(), Duration.ofSeconds(5));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client.dispatch("demo", DEVICE, System.currentTimeMillis()).get(5, TimeUnit.SECONDS));
        assertInstanceOf(DispatchException.class, e.getCause());
    }

    @Test
    void unreachableDispatcherFailsWithIoException() {
        DispatchClient client = new DispatchClient(HTTP, URI.create("http://127.0.0.1:1/"), Duration.ofSeconds(5));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client.dispatch("demo", DEVICE, System.currentTimeMillis()).get(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause());
    }

    @Test
    void registrationReturnsTheIssuedCredentials() throws Exception {
        try (StubDispatcher stub = new StubDispatcher()) {
            DispatchClient client = new DispatchClient(HTTP, stub.uri(), Duration.ofSeconds(5));
            DeviceCredentials issued = client.register("demo", StubDispatcher.CLIENT_KEY).get(5, TimeUnit.SECONDS);
            assertEquals(StubDispatcher.credentials("demo", "stub-device-1"), issued);
        }
    }

    @Test
    void aRefusedRegistrationIsADispatchExceptionWith401() throws Exception {
        try (StubDispatcher stub = new StubDispatcher()) {
            DispatchClient client = new DispatchClient(HTTP, stub.uri(), Duration.ofSeconds(5));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> client.register("demo", "not-the-key").get(5, TimeUnit.SECONDS));
            DispatchException d = assertInstanceOf(DispatchException.class, e.getCause());
            assertEquals(401, d.status());
            assertEquals("unauthorized", d.code());
        }
    }

    @Test
    void aDispatchSignedWithAnotherSecretIsRefused() throws Exception {
        try (StubDispatcher stub = new StubDispatcher().brokers("127.0.0.1:7001")) {
            DispatchClient client = new DispatchClient(HTTP, stub.uri(), Duration.ofSeconds(5));
            DeviceCredentials impostor = new DeviceCredentials("dev-1", StubDispatcher.credentials("demo", "dev-2").deviceSecret());
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> client.dispatch("demo", impostor, System.currentTimeMillis()).get(5, TimeUnit.SECONDS));
            assertEquals(401, assertInstanceOf(DispatchException.class, e.getCause()).status());
        }
    }

    private void serve(int status, String body) throws IOException {
        raw = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        raw.createContext("/", ex -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        });
        raw.start();
    }

    private URI rawUri() {
        return URI.create("http://127.0.0.1:" + raw.getAddress().getPort());
    }
}
