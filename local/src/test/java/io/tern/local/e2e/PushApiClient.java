package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.client.ClientTls;
import io.tern.logic.auth.AppAuthenticator;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;

/** What an app server does against the logic node's API, over real HTTP. */
final class PushApiClient {
    static final ObjectMapper JSON = new ObjectMapper();

    record Response(int status, JsonNode body, java.net.http.HttpHeaders headers) {
    }

    private final HttpClient http;
    private final String base;
    private String authToken;

    PushApiClient(InetSocketAddress logic) {
        this(logic, null);
    }

    /** @param tls when set, the API is called over HTTPS, the logic node verified with it */
    PushApiClient(InetSocketAddress logic, ClientTls tls) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        this.http = (tls == null ? b : b.sslContext(tls.jdkContext())).build();
        this.base = (tls == null ? "http://" : "https://") + logic.getHostString() + ":" + logic.getPort();
    }


    Response auth(String appId, String appKey, long timestamp, String sign) {
        return post("/v1/auth", JSON.createObjectNode().put("appId", appId).put("appKey", appKey)
                .put("timestamp", timestamp).put("sign", sign).toString()).join();
    }

    /** Authenticates with a correct signature and keeps the token for later calls. */
    PushApiClient login(String appId, String appKey, String secret) {
        long ts = System.currentTimeMillis();
        Response r = auth(appId, appKey, ts, AppAuthenticator.sign(appId, appKey, ts, secret));
        if (r.status() != 200) {
            throw new IllegalStateException("auth failed: " + r);
        }
        authToken = r.body().get("authToken").asText();
        return this;
    }

    CompletableFuture<Response> pushNotification(String regId, String title, String body) {
        return post("/v1/push/single", JSON.createObjectNode().put("regId", regId)
                .set("notification", JSON.createObjectNode().put("title", title).put("body", body)).toString());
    }

    /** Stores a notification task body; returns its taskId. */
    String createTask(String title, String body, String extraJsonFields) {
        String json = "{\"notification\":{\"title\":\"" + title + "\",\"body\":\"" + body + "\"}"
                + (extraJsonFields == null ? "" : "," + extraJsonFields) + "}";
        Response r = post("/v1/push/payload", json).join();
        if (r.status() != 200) {
            throw new IllegalStateException("payload: " + r);
        }
        return r.body().get("taskId").asText();
    }

    Response listPush(String taskId, java.util.List<String> regIds, String requestId) {
        var node = JSON.createObjectNode().put("taskId", taskId);
        var arr = node.putArray("regIds");
        regIds.forEach(arr::add);
        if (requestId != null) {
            node.put("requestId", requestId);
        }
        return post("/v1/push/list", node.toString()).join();
    }

    Response allPush(String taskId) {
        return post("/v1/push/all", JSON.createObjectNode().put("taskId", taskId).toString()).join();
    }

    JsonNode task(String taskId) {
        Response r = get("/v1/tasks/" + taskId);
        if (r.status() != 200) {
            throw new IllegalStateException("task " + taskId + ": " + r);
        }
        return r.body();
    }

    /** The task once its view stayed the same for {@code quiet}: jobs in flight have settled. */
    JsonNode settledTask(String taskId, Duration quiet) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        await().during(quiet).atMost(quiet.multipliedBy(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    JsonNode now = task(taskId);
                    return now.equals(last.getAndSet(now));
                });
        return last.get();
    }

    Response delete(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).DELETE();
        if (authToken != null) {
            b.header("authToken", authToken);
        }
        return send(b.build()).join();
    }

    CompletableFuture<Response> post(String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authToken != null) {
            b.header("authToken", authToken);
        }
        return send(b.build());
    }

    Response get(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET();
        if (authToken != null) {
            b.header("authToken", authToken);
        }
        return send(b.build()).join();
    }

    /** A plain-text GET, e.g. /metrics. */
    String getText(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String status(String msgId) {
        Response r = get("/v1/messages/" + msgId);
        if (r.status() != 200) {
            throw new IllegalStateException("status of " + msgId + ": " + r);
        }
        return r.body().get("status").asText();
    }

    private CompletableFuture<Response> send(HttpRequest req) {
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            try {
                return new Response(r.statusCode(), r.body().isEmpty() ? null : JSON.readTree(r.body()), r.headers());
            } catch (Exception e) {
                throw new IllegalStateException("non-JSON answer " + r.statusCode() + ": " + r.body(), e);
            }
        });
    }
}
