package io.tern.client.dispatch;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.protocol.token.DispatchSignature;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Talks to the dispatcher: registers a new device ({@code POST {base}/v1/register}) and asks where to
 * connect ({@code GET {base}/v1/dispatch?appId=..&regId=..&ts=..&sign=..}, signed with the device secret).
 * Fully asynchronous ({@link HttpClient#sendAsync}); the returned future completes on the
 * HTTP client's executor, never on the caller's thread. Response bodies are capped at
 * {@link #MAX_BODY_BYTES}. Thread-safe; one instance may serve many clients.
 */
public final class DispatchClient {
    public static final String PATH = "/v1/dispatch";
    public static final String REGISTER_PATH = "/v1/register";
    /** A dispatch answer is a few hundred bytes; anything far larger is not one. */
    public static final int MAX_BODY_BYTES = 64 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final HttpClient http;
    private final String base;
    private final Duration timeout;
    private final String homeRegion;

    public DispatchClient(HttpClient http, URI dispatcher, Duration timeout) {
        this(http, dispatcher, timeout, null);
    }

    private DispatchClient(HttpClient http, URI dispatcher, Duration timeout, String homeRegion) {
        this.http = Objects.requireNonNull(http, "http");
        String b = dispatcher.toString();
        this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.homeRegion = homeRegion;
    }

    /**
     * A client that names the device's home region in each request (null: the dispatcher's default
     * region). The home region decides which brokers come first, and where a region failback brings
     * the device back to.
     */
    public DispatchClient withHomeRegion(String region) {
        return new DispatchClient(http, URI.create(base), timeout, region);
    }

    /** The dispatch request of this device at {@code ts} (epoch ms), signed with its secret. */
    public URI uriFor(String appId, DeviceCredentials device, long ts) {
        String sign = DispatchSignature.sign(device.deviceSecret(), appId, device.regId(), ts);
        return URI.create(base + PATH + "?appId=" + URLEncoder.encode(appId, StandardCharsets.UTF_8)
                + "&regId=" + URLEncoder.encode(device.regId(), StandardCharsets.UTF_8) + "&ts=" + ts + "&sign=" + sign
                + (homeRegion == null ? "" : "&region=" + URLEncoder.encode(homeRegion, StandardCharsets.UTF_8)));
    }

    /**
     * @param ts the device's idea of now (epoch ms); the dispatcher accepts it within its clock skew (5 min)
     * @return the dispatch, or a future failed with {@link DispatchException} (error answer, e.g. 401 for
     *         credentials it does not accept, or unusable body) or the HTTP client's {@link IOException}
     *         (unreachable, timeout)
     */
    public CompletableFuture<Dispatch> dispatch(String appId, DeviceCredentials device, long ts) {
        HttpRequest request = HttpRequest.newBuilder(uriFor(appId, device, ts))
                .timeout(timeout)
                .header("Accept", "application/json")
                .GET()
                .build();
        return http.sendAsync(request, info -> new BoundedBody(MAX_BODY_BYTES, info.statusCode()))
                .thenApply(DispatchClient::parse);
    }

    /**
     * Registers a new device of {@code appId} with the app's client key.
     *
     * @return the issued credentials, or a future failed as {@link #dispatch} fails (401 for a wrong client key)
     */
    public CompletableFuture<DeviceCredentials> register(String appId, String clientKey) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(Map.of("appId", appId, "clientKey", clientKey));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + REGISTER_PATH))
                .timeout(timeout)
                .header("Accept", "application/json")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        return http.sendAsync(request, info -> new BoundedBody(MAX_BODY_BYTES, info.statusCode()))
                .thenApply(DispatchClient::parseRegistration);
    }

    static DeviceCredentials parseRegistration(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        if (status != 200) {
            throw error(status, response.body());
        }
        try {
            JsonNode root = JSON.readTree(response.body());
            JsonNode regId = root == null ? null : root.get("regId");
            JsonNode secret = root == null ? null : root.get("deviceSecret");
            if (regId == null || !regId.isTextual() || regId.asText().isBlank()) {
                throw new DispatchException(status, null, "registration answer has no regId", "regId");
            }
            if (secret == null || !secret.isTextual() || secret.asText().isBlank()) {
                throw new DispatchException(status, null, "registration answer has no deviceSecret", "deviceSecret");
            }
            return new DeviceCredentials(regId.asText(), secret.asText());
        } catch (IOException e) {
            throw new DispatchException(status, null, "answer is not JSON: " + e.getMessage(), null);
        }
    }

    static Dispatch parse(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        byte[] body = response.body();
        if (status != 200) {
            throw error(status, body);
        }
        try {
            JsonNode root = JSON.readTree(body);
            if (root == null || !root.isObject()) {
                throw new DispatchException(status, null, "answer is not a JSON object", null);
            }
            JsonNode token = root.get("token");
            if (token == null || !token.isTextual() || token.asText().isEmpty()) {
                throw new DispatchException(status, null, "answer has no token", "token");
            }
            JsonNode expires = root.get("expiresAt");
            return new Dispatch(strings(root.get("brokers")), strings(root.get("wsBrokers")), token.asText(),
                    expires == null ? 0L : expires.asLong());
        } catch (IOException e) {
            throw new DispatchException(status, null, "answer is not JSON: " + e.getMessage(), null);
        }
    }

    private static List<String> strings(JsonNode node) {
        if (node == null || !node.isArray()) {
            return List.of();
        }
        List<String> out = new ArrayList<>(node.size());
        for (JsonNode n : node) {
            if (n.isTextual() && !n.asText().isBlank()) {
                out.add(n.asText().trim());
            }
        }
        return out;
    }

    private static DispatchException error(int status, byte[] body) {
        try {
            JsonNode root = JSON.readTree(body);
            if (root != null && root.isObject()) {
                return new DispatchException(status, text(root, "code"), text(root, "message"), text(root, "field"));
            }
        } catch (IOException | RuntimeException ignored) {
            // not an error document: report the status alone
        }
        return new DispatchException(status, null, null, null);
    }

    private static String text(JsonNode root, String field) {
        JsonNode n = root.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    /** Collects the body up to {@code limit} bytes; a longer body cancels the exchange and fails. */
    private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int limit;
        private final int status;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final List<ByteBuffer> parts = new ArrayList<>();
        private int length;
        private Flow.Subscription subscription;

        BoundedBody(int limit, int status) {
            this.limit = limit;
            this.status = status;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                length += b.remaining();
                if (length > limit) {
                    subscription.cancel();
                    parts.clear();
                    result.completeExceptionally(new DispatchException(status, null,
                            "answer is over " + limit + " bytes", null));
                    return;
                }
                parts.add(b);
            }
        }

        @Override
        public void onError(Throwable t) {
            parts.clear();
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            byte[] out = new byte[length];
            int at = 0;
            for (ByteBuffer b : parts) {
                int n = b.remaining();
                b.get(out, at, n);
                at += n;
            }
            parts.clear();
            result.complete(out);
        }
    }
}
