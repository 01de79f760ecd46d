package io.tern.local.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.logic.auth.AppAuthenticator;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An app server that keeps pushing through a fault: calls go round-robin to every logic node, and a call that
 * got no answer, a 5xx or a 429 is tried again (on the next node, after a short pause or the Retry-After) with
 * the same {@code requestId}, so a retry never pushes twice. Only a 2xx makes a message "accepted"; the
 * refusals on the way are counted by status.
 */
public final class PushStream {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(90);

    /** One accepted single push. */
    public record Accepted(String device, String regId, long msgId, long firstAttemptNanos, long acceptedNanos,
                           String status) {
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final List<URI> logic;
    private final String appId;
    private final String appKey;
    private final String appSecret;
    private final AtomicInteger next = new AtomicInteger();
    private volatile String token;
    /** status (or "io" for no answer) → count, over the stream's life. */
    public final Map<String, AtomicLong> refusals = new ConcurrentHashMap<>();
    public final AtomicLong gaveUp = new AtomicLong();
    /** What the first few calls without an answer failed with (what "io" in {@link #refusals} was). */
    public final Set<String> ioKinds = ConcurrentHashMap.newKeySet();
    final AtomicLong rejected = new AtomicLong();
    final Set<String> rejectedAnswers = ConcurrentHashMap.newKeySet();

    public PushStream(List<URI> logic, String appId, String appKey, String appSecret) {
        this.logic = logic;
        this.appId = appId;
        this.appKey = appKey;
        this.appSecret = appSecret;
    }

    /** Signs in on any logic node that answers (a token is good on every node). */
    public void login() {
        long deadline = System.nanoTime() + GIVE_UP_AFTER.toNanos();
        while (System.nanoTime() < deadline) {
            long ts = System.currentTimeMillis();
            ObjectNode body = JSON.createObjectNode().put("appId", appId).put("appKey", appKey).put("timestamp", ts)
                    .put("sign", AppAuthenticator.sign(appId, appKey, ts, appSecret));
            try {
                HttpResponse<String> r = http.send(request("/v1/auth", body.toString(), null),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    token = JSON.readTree(r.body()).get("authToken").asText();
                    return;
                }
            } catch (Exception e) {
                // next node
            }
            pause(200);
        }
        throw new IllegalStateException("no logic node signed us in within " + GIVE_UP_AFTER);
    }

    /** A single push to {@code regId}, retried until accepted; empty when it never was (counted in {@link #gaveUp}). */
    public CompletableFuture<Optional<Accepted>> single(String device, String regId, String requestId, String body) {
        ObjectNode json = JSON.createObjectNode().put("regId", regId).put("requestId", requestId);
        json.set("notification", JSON.createObjectNode().put("title", "chaos").put("body", body));
        long first = System.nanoTime();
        return call("/v1/push/single", json.toString(), first)
                .thenApply(r -> r.map(n -> new Accepted(device, regId, Long.parseLong(n.get("msgId").asText()), first,
                        System.nanoTime(), n.path("status").asText(null))));
    }

    /** Stores a task body then targets {@code regIds} with it (both retried); the list answer (taskId, invalidRegIds). */
    Optional<JsonNode> listPush(List<String> regIds, String marker) {
        long first = System.nanoTime();
        String payload = JSON.createObjectNode().set("notification",
                JSON.createObjectNode().put("title", "chaos-group").put("body", marker)).toString();
        Optional<JsonNode> task = call("/v1/push/payload", payload, first).join();
        if (task.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode list = JSON.createObjectNode().put("taskId", task.get().get("taskId").asText()).put("requestId", marker);
        regIds.forEach(list.putArray("regIds")::add);
        return call("/v1/push/list", list.toString(), System.nanoTime()).join();
    }

    private CompletableFuture<Optional<JsonNode>> call(String path, String body, long firstAttemptNanos) {
        return http.sendAsync(request(path, body, token), HttpResponse.BodyHandlers.ofString())
                .handle((r, err) -> {
                    if (err == null && r.statusCode() / 100 == 2) {
                        try {
                            return CompletableFuture.completedFuture(Optional.of(JSON.readTree(r.body())));
                        } catch (Exception e) {
                            throw new IllegalStateException("non-JSON 2xx: " + r.body(), e);
                        }
                    }
                    String why = err != null ? "io" : Integer.toString(r.statusCode());
                    refusals.computeIfAbsent(why, k -> new AtomicLong()).incrementAndGet();
                    if (err != null && ioKinds.size() < 8) {
                        Throwable cause = err.getCause() != null ? err.getCause() : err;
                        ioKinds.add(cause.getClass().getSimpleName() + ": " + cause.getMessage());
                    }
                    if (err == null && r.statusCode() == 401) {
                        login();
                    } else if (err == null && r.statusCode() / 100 == 4 && r.statusCode() != 429) {
                        rejected.incrementAndGet();
                        rejectedAnswers.add(r.statusCode() + " " + r.body());
                        return CompletableFuture.completedFuture(Optional.<JsonNode>empty());
                    }
                    if (System.nanoTime() - firstAttemptNanos > GIVE_UP_AFTER.toNanos()) {
                        gaveUp.incrementAndGet();
                        return CompletableFuture.completedFuture(Optional.<JsonNode>empty());
                    }
                    long delayMs = err == null ? retryAfterMs(r) : 200;
                    Executor later = CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS);
                    return CompletableFuture.supplyAsync(() -> null, later)
                            .thenCompose(x -> call(path, body, firstAttemptNanos));
                })
                .thenCompose(f -> f);
    }

    private static long retryAfterMs(HttpResponse<String> r) {
        return r.headers().firstValue("Retry-After").map(v -> {
            try {
                return Math.min(1000L, Long.parseLong(v.trim()) * 1000);
            } catch (NumberFormatException e) {
                return 200L;
            }
        }).orElse(200L);
    }

    private HttpRequest request(String path, String body, String authToken) {
        URI base = logic.get(Math.floorMod(next.getAndIncrement(), logic.size()));
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (authToken != null) {
            b.header("authToken", authToken);
        }
        return b.build();
    }

    /** The message's status on any node that answers; empty when none does, "404" when the message is unknown. */
    public Optional<String> status(long msgId) {
        for (int i = 0; i < 10; i++) {
            URI base = logic.get(Math.floorMod(next.getAndIncrement(), logic.size()));
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages/" + msgId))
                        .timeout(Duration.ofSeconds(5)).header("authToken", token).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return Optional.of(JSON.readTree(r.body()).get("status").asText());
                }
                if (r.statusCode() == 404) {
                    return Optional.of("404");
                }
                if (r.statusCode() == 401) {
                    login();
                }
            } catch (Exception e) {
                // next node
            }
            pause(200);
        }
        return Optional.empty();
    }

    public String refusalSummary() {
        return refusals.isEmpty() ? "none" : new java.util.TreeMap<>(refusals).toString();
    }

    static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
