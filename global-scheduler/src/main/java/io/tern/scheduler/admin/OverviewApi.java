package io.tern.scheduler.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.http.Route;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * What the SRE console shows besides the regions, behind the same SRE token as {@link AdminApi}:
 * <pre>
 * GET /v1/brokers         {"brokers":[{"id","region","connections","deliveriesPerSecond","delivered",
 *                          "capacityPerSecond","startedAt"}]}, by region then id (the registry as last read)
 * GET /v1/tasks?limit=N   {"tasks":[{"taskId","app","kind","state","reason"?,"createdAt",counters...}]}, newest
 *                          first (limit 1..scheduler.recent-tasks, default {@value #DEFAULT_TASKS})
 * GET /v1/throttle        the rate controller's own answer, asked with the caller's token ({@code controller-url})
 * GET /v1/scale           likewise: the autoscaler and the burst buffer's lag (read whether autoscaling is on or
 *                          not; null with the reason in lagError when the controller cannot read Kafka)
 * </pre>
 * The controller's answers pass through unchanged (status and body); an unreachable controller is 502
 * {@code controller_unavailable}.
 */
public final class OverviewApi {
    public static final String BROKERS = "/v1/brokers";
    public static final String TASKS = "/v1/tasks";
    public static final String THROTTLE = "/v1/throttle";
    public static final String SCALE = "/v1/scale";
    static final int DEFAULT_TASKS = 20;
    /** The controller answers from memory and Redis: a slower answer means it is in trouble, and the console says so. */
    static final Duration CONTROLLER_TIMEOUT = Duration.ofSeconds(3);

    private final Supplier<BrokerSnapshot> brokers;
    private final TaskRepository tasks;
    private final URI controller;
    private final HttpClient http;

    public OverviewApi(Supplier<BrokerSnapshot> brokers, TaskRepository tasks, URI controllerUrl) {
        this.brokers = brokers;
        this.tasks = tasks;
        this.controller = controllerUrl;
        this.http = HttpClient.newBuilder().connectTimeout(CONTROLLER_TIMEOUT).build();
    }

    /** Adds the routes, each behind {@code guard} (the SRE token check). */
    public HttpServer.Builder addRoutes(HttpServer.Builder builder, UnaryOperator<Route.Handler> guard) {
        return builder
                .route(HttpMethod.GET, BROKERS, guard.apply(this::brokers))
                .route(HttpMethod.GET, TASKS, guard.apply(this::tasks))
                .route(HttpMethod.GET, THROTTLE, guard.apply(req -> controller(req, THROTTLE)))
                .route(HttpMethod.GET, SCALE, guard.apply(req -> controller(req, SCALE)));
    }

    private CompletableFuture<HttpResponse> brokers(HttpRequest req) {
        List<BrokerInfo> live = new ArrayList<>(brokers.get().brokers());
        live.sort(Comparator.comparing(BrokerInfo::region).thenComparing(BrokerInfo::id));
        List<Map<String, Object>> out = new ArrayList<>(live.size());
        for (BrokerInfo b : live) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", b.id());
            row.put("region", b.region());
            row.put("connections", b.connections());
            row.put("deliveriesPerSecond", Math.round(b.deliveries().perSecond() * 10) / 10.0);
            row.put("delivered", b.deliveries().delivered());
            row.put("capacityPerSecond", b.deliveries().capacityPerSecond());
            row.put("startedAt", Instant.ofEpochMilli(b.startedAtMillis()).toString());
            out.add(row);
        }
        return CompletableFuture.completedFuture(HttpResponse.ok(Map.of("brokers", out)));
    }

    private CompletableFuture<HttpResponse> tasks(HttpRequest req) {
        int limit = DEFAULT_TASKS;
        String given = req.queryParam("limit");
        if (given != null) {
            try {
                limit = Integer.parseInt(given);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > tasks.recentKept()) {
                throw ApiException.badRequest("limit", "limit must be between 1 and " + tasks.recentKept()
                        + " (scheduler.recent-tasks), got '" + given + "'");
            }
        }
        return tasks.recent(limit).thenApply(recent -> {
            List<Map<String, Object>> out = new ArrayList<>(recent.size());
            for (StoredTask t : recent) {
                Map<String, Object> row = new LinkedHashMap<>();
                // A string: JavaScript numbers lose 64-bit ids.
                row.put("taskId", Long.toString(t.body().taskId()));
                row.put("app", t.body().appId());
                row.put("kind", t.body().kind().name().toLowerCase(Locale.ROOT));
                row.put("state", t.state().wireName());
                if (t.reason() != null) {
                    row.put("reason", t.reason());
                }
                row.put("createdAt", Instant.ofEpochMilli(t.body().createdAtMillis()).toString());
                for (TaskCounter c : TaskCounter.values()) {
                    row.put(c.wireName(), t.counter(c));
                }
                out.add(row);
            }
            return HttpResponse.ok(Map.of("tasks", out));
        });
    }

    private CompletableFuture<HttpResponse> controller(HttpRequest req, String path) {
        java.net.http.HttpRequest.Builder ask = java.net.http.HttpRequest.newBuilder(controller.resolve(path))
                .timeout(CONTROLLER_TIMEOUT).GET();
        String auth = req.header("Authorization");
        if (auth != null) {
            ask.header("Authorization", auth);
        }
        return http.sendAsync(ask.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray())
                .handle((r, err) -> {
                    if (err != null) {
                        throw new ApiException(502, "controller_unavailable", "the rate controller at " + controller
                                + " did not answer: " + err.getClass().getSimpleName(), null);
                    }
                    return new HttpResponse(r.statusCode(), r.body(),
                            r.headers().firstValue("Content-Type").orElse("application/json"), Map.of());
                });
    }
}
