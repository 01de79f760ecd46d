package io.tern.runtime.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One role's metrics registry and health checks, served as {@code GET /metrics} (Prometheus
 * text) and {@code GET /health} (200 when every check passes, else 503, with each check named).
 */
public final class Observability implements AutoCloseable {
    private static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private final PrometheusMeterRegistry registry;
    private final Map<String, BooleanSupplier> checks = new ConcurrentHashMap<>();
    private final Map<String, Supplier<?>> facts = new ConcurrentHashMap<>();
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();

    public Observability(String role, String instance) {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("role", role, "instance", instance);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Adds a named readiness check; /health is 200 only when all pass. */
    public void check(String name, BooleanSupplier check) {
        checks.put(name, check);
    }

    /** Adds a named fact to the /health body (e.g. a scheduler's role); it does not decide the status. */
    public void fact(String name, Supplier<?> value) {
        facts.put(name, value);
    }

    /**
     * Shows the storage mode of a role that has no reconciling of its own to do, as the logic node shows its own
     * ({@code pipeline} {@code outage.StorageMode}): the fact {@code storage} ({@code normal}, or {@code outage} while
     * Redis has not answered for the role's outage threshold), the gauge {@code tern.storage.mode} (0 normal,
     * 1 outage) and the counter {@code tern.storage.outages}. It does not decide the status: each role says by its
     * checks whether it still does its job in an outage.
     */
    public void storageMode(BooleanSupplier outage, LongSupplier outages) {
        fact("storage", () -> outage.getAsBoolean() ? "outage" : "normal");
        Gauge.builder("tern.storage.mode", outage, o -> o.getAsBoolean() ? 1 : 0)
                .description("0 normal (Redis), 1 outage (serving without Redis)").register(registry);
        FunctionCounter.builder("tern.storage.outages", outages, LongSupplier::getAsLong)
                .description("Redis outages seen since start").register(registry);
    }

    public boolean healthy() {
        return checks.values().stream().allMatch(BooleanSupplier::getAsBoolean);
    }

    /**
     * Adds /metrics and /health to a role's HTTP server. {@code /metrics?name[]=a&name[]=b} renders only those
     * families (Prometheus' own filter, by family name: a counter without {@code _total}): a poller that wants one
     * gauge, such as the load tester, does not make the role render every histogram once a second.
     */
    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        return http
                .route(HttpMethod.GET, "/metrics", req -> {
                    List<String> names = req.query().get("name[]");
                    String text = names == null || names.isEmpty() ? registry.scrape()
                            : registry.scrape(TEXT, Set.copyOf(names));
                    return CompletableFuture.completedFuture(HttpResponse.text(200, text, TEXT));
                })
                .route(HttpMethod.GET, "/health", req -> CompletableFuture.completedFuture(health()));
    }

    private HttpResponse health() {
        Map<String, String> results = new LinkedHashMap<>();
        boolean up = true;
        for (Map.Entry<String, BooleanSupplier> c : checks.entrySet()) {
            boolean ok;
            try {
                ok = c.getValue().getAsBoolean();
            } catch (RuntimeException e) {
                ok = false;
            }
            up &= ok;
            results.put(c.getKey(), ok ? "UP" : "DOWN");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", up ? "UP" : "DOWN");
        body.put("checks", results);
        facts.forEach((name, value) -> body.put(name, value.get()));
        return HttpResponse.json(up ? 200 : 503, body);
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
