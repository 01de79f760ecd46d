package io.tern.loadtest.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.logic.auth.AppAuthenticator;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * What an app server does against the logic node's push API, for the runner's few calls
 * ({@code /v1/auth}, the broadcast scenario's {@code /v1/push/payload}, {@code /v1/push/all} and
 * {@code GET /v1/tasks/{taskId}}).
 * The high-rate single-push load goes through {@link SinglePushLoad} instead.
 */
public final class AppApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An answer: status and parsed JSON body (null when empty or not JSON), and when the call started and ended. */
    public record Answer(int status, JsonNode body, String raw, long startMicros, long endMicros) {
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private String authToken;

    public AppApi(String baseUrl) {
        this.base = baseUrl;
    }

    /** {@code POST /v1/auth}; keeps the token for later calls and returns it. */
    public String login(String appId, String appKey, String secret) {
        long ts = System.currentTimeMillis();
        String body = JSON.createObjectNode().put("appId", appId).put("appKey", appKey).put("timestamp", ts)
                .put("sign", AppAuthenticator.sign(appId, appKey, ts, secret)).toString();
        Answer a = post("/v1/auth", body);
        if (a.status() != 200 || a.body() == null || !a.body().hasNonNull("authToken")) {
            throw new IllegalStateException("POST /v1/auth answered " + a.status() + ": " + a.raw());
        }
        authToken = a.body().get("authToken").asText();
        return authToken;
    }

    /** Like {@link #post} without waiting; the answer's times are taken when the call starts and when it ends. */
    public java.util.concurrent.CompletableFuture<Answer> postAsync(String path, String json) {
        return sendAsync(request(path).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** {@code GET path}, e.g. {@code /v1/tasks/{taskId}}, with the login's token, without waiting. */
    public java.util.concurrent.CompletableFuture<Answer> getAsync(String path) {
        return sendAsync(request(path).GET());
    }

    private java.util.concurrent.CompletableFuture<Answer> sendAsync(HttpRequest.Builder b) {
        long start = io.tern.loadtest.stats.EpochClock.nowMicros();
        return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).thenApply(r -> answer(r, start));
    }

    public Answer post(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)), "POST " + path);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (authToken != null) {
            b.header("authToken", authToken);
        }
        return b;
    }

    private Answer send(HttpRequest.Builder b, String what) {
        long start = io.tern.loadtest.stats.EpochClock.nowMicros();
        try {
            return answer(http.send(b.build(), HttpResponse.BodyHandlers.ofString()), start);
        } catch (IOException e) {
            throw new IllegalStateException(what + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static Answer answer(HttpResponse<String> r, long startMicros) {
        long end = io.tern.loadtest.stats.EpochClock.nowMicros();
        JsonNode body;
        try {
            body = r.body() == null || r.body().isBlank() ? null : JSON.readTree(r.body());
        } catch (IOException e) {
            body = null;
        }
        return new Answer(r.statusCode(), body, r.body(), startMicros, end);
    }
}
