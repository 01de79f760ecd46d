package io.tern.ratecontrol.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.ratecontrol.decision.ThrottleController;
import io.tern.ratecontrol.load.PlatformLoad;
import io.tern.ratecontrol.load.RegionLoad;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.BearerGuard;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.http.Route;
import io.tern.store.throttle.DirectiveChange;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * The SRE admin API of the rate controller. Every call carries {@code Authorization: Bearer <sre-token>}
 * (compared in constant time), else 401. Any instance, leader or not, answers: reads come from Redis and the
 * instance's last tick, writes are a compare-and-set of the directive. Handlers never block.
 * <pre>
 * GET    /v1/throttle                 the directive, the load (capacity, downstream per region and total), the leader,
 *                                     the leader's heartbeat age
 * PUT    /v1/throttle                 {"ratePerSecond":N,"reason"?}: an SRE override, kept until released; 200 {"version"}
 * DELETE /v1/throttle                 releases an override back to the controller; 200 {"version"}; 409 when none
 * GET    /v1/throttle/history?limit=N {"changes":[{"version","at","by","state","permitPerSecond","source","reason"}]}
 * </pre>
 */
public final class AdminApi {
    public static final String THROTTLE = "/v1/throttle";
    public static final String HISTORY = "/v1/throttle/history";
    /** Who SRE changes are recorded as (one shared token). */
    public static final String SRE = "sre";
    private static final int WRITE_ATTEMPTS = 5;
    private static final int MAX_REASON_CHARS = 500;
    private static final int DEFAULT_HISTORY = 50;

    /** What the instance's control loop last saw. */
    public interface View {
        PlatformLoad load();

        String leaderId();
    }

    private final BearerGuard guard;
    private final DirectiveRepository directives;
    private final View view;
    private final ThrottleController controller;
    private final double throttleAt;
    private final long maxPermit;
    private final int historyMax;
    private final Clock clock;
    private final Counter sreChanges;

    public AdminApi(byte[] sreToken, DirectiveRepository directives, View view, ThrottleController controller,
                    double throttleAt, long maxPermit, int historyMax, Clock clock, Counter sreChanges) {
        this.guard = new BearerGuard(new String(sreToken, StandardCharsets.UTF_8));
        this.directives = directives;
        this.view = view;
        this.controller = controller;
        this.throttleAt = throttleAt;
        this.maxPermit = maxPermit;
        this.historyMax = historyMax;
        this.clock = clock;
        this.sreChanges = sreChanges;
    }

    /** Adds the admin routes to the controller's server. */
    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        int maxBody = 4096;
        return http
                .route(HttpMethod.GET, THROTTLE, guarded(this::status))
                .route(HttpMethod.PUT, THROTTLE, maxBody, guarded(this::set))
                .route(HttpMethod.DELETE, THROTTLE, guarded(this::release))
                .route(HttpMethod.GET, HISTORY, guarded(this::history));
    }

    /** The handler behind the SRE token check (constant time), else 401; for every admin route (also the scale routes). */
    public Route.Handler guarded(Route.Handler handler) {
        return guard.guard(handler);
    }

    // ---- reads

    private CompletableFuture<HttpResponse> status(HttpRequest req) {
        CompletableFuture<Map<String, Object>> stored = directives.load()
                .thenApply(d -> Map.<String, Object>of("directive", describe(d)))
                .exceptionally(e -> {
                    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (c instanceof IllegalStateException) {
                        // A stored directive that is not valid: shown as such until the leader replaces it.
                        return Map.of("directiveError", c.getMessage());
                    }
                    throw e instanceof CompletionException ce ? ce : new CompletionException(e);
                });
        return stored.thenCombine(directives.lastHeartbeat(), (d, beat) -> {
            long now = clock.millis();
            PlatformLoad load = view.load();
            Map<String, Object> body = new LinkedHashMap<>(d);
            Object directive = d.get("directive");
            body.put("state", directive instanceof Map<?, ?> m ? m.get("state") : null);
            body.put("capacityPerSecond", load.capacity());
            body.put("downstreamPerSecond", round(load.downstream()));
            body.put("utilisation", Math.round(load.ratio() * 1000) / 1000.0);
            body.put("gatedPerSecond", load.gated().isPresent() ? round(load.gated().getAsDouble()) : null);
            body.put("ungatedPerSecond", round(load.ungated()));
            List<Map<String, Object>> regions = new ArrayList<>();
            for (RegionLoad r : load.regions()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", r.region());
                row.put("brokers", r.brokers());
                row.put("capacityPerSecond", r.capacity());
                row.put("downstreamPerSecond", round(r.downstream()));
                if (r.cappedBy() > 0) {
                    row.put("cappedBy", r.cappedBy());
                }
                regions.add(row);
            }
            body.put("regions", regions);
            body.put("loadAgeMillis", load.atMillis() == 0 ? null : Math.max(0, now - load.atMillis()));
            body.put("leader", view.leaderId());
            body.put("heartbeatAgeMillis", beat < 0 ? null : Math.max(0, now - beat));
            return HttpResponse.ok(body);
        });
    }

    private CompletableFuture<HttpResponse> history(HttpRequest req) {
        int limit = DEFAULT_HISTORY;
        String given = req.queryParam("limit");
        if (given != null) {
            try {
                limit = Integer.parseInt(given);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > historyMax) {
                throw ApiException.badRequest("limit", "limit must be between 1 and " + historyMax + ", got '" + given + "'");
            }
        }
        return directives.history(limit).thenApply(changes -> {
            List<Map<String, Object>> out = new ArrayList<>(changes.size());
            for (DirectiveChange c : changes) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("version", c.version());
                row.put("at", Instant.ofEpochMilli(c.atMillis()).toString());
                row.put("by", c.by());
                row.put("state", c.directive().state().wire());
                row.put("permitPerSecond", c.directive().permitPerSecond());
                row.put("source", c.directive().source());
                row.put("reason", c.directive().reason());
                out.add(row);
            }
            return HttpResponse.ok(Map.of("changes", out));
        });
    }

    // ---- writes

    private CompletableFuture<HttpResponse> set(HttpRequest req) {
        JsonNode body = body(req);
        long rate = rate(body);
        String reason = reason(body);
        return write(WRITE_ATTEMPTS, stored -> {
            PlatformLoad load = view.load();
            // Below what the controller would allow open it throttles; at or above it the SRE opens up.
            ThrottleState state = load.capacity() > 0 && rate >= Math.round(throttleAt * load.capacity())
                    ? ThrottleState.OPEN : ThrottleState.THROTTLED;
            return new ThrottleDirective(stored.version() + 1, state, rate, ThrottleDirective.BY_SRE,
                    reason == null ? "set by sre" : reason, clock.millis());
        });
    }

    private CompletableFuture<HttpResponse> release(HttpRequest req) {
        return write(WRITE_ATTEMPTS, stored -> {
            if (stored.directive() != null && !stored.directive().setBySre()) {
                throw new ApiException(409, "not_overridden",
                        "the controller already sets the directive (version " + stored.version() + "); nothing to release",
                        null);
            }
            long keep = stored.directive() == null ? 0 : stored.directive().permitPerSecond();
            return controller.restart(stored.version() + 1, keep, view.load(), clock.millis(), "released by sre");
        });
    }

    /** The stored version and directive (null when the stored one is not valid: an override replaces it). */
    private record Stored(long version, ThrottleDirective directive) {
    }

    private CompletableFuture<HttpResponse> write(int left,
                                                  java.util.function.Function<Stored, ThrottleDirective> command) {
        return stored().thenCompose(stored -> {
            ThrottleDirective next = command.apply(stored);
            return directives.replace(next, SRE, null).thenCompose(done -> {
                if (done) {
                    sreChanges.increment();
                    return CompletableFuture.completedFuture(HttpResponse.ok(Map.of("version", next.version(),
                            "state", next.state().wire(), "permitPerSecond", next.permitPerSecond(),
                            "source", next.source())));
                }
                if (left <= 1) {
                    throw new ApiException(409, "stale_version",
                            "the directive changed while this request was applied; read it again and retry", null);
                }
                return write(left - 1, command);
            });
        });
    }

    private CompletableFuture<Stored> stored() {
        return directives.load().thenApply(d -> new Stored(d.version(), d)).exceptionallyCompose(e -> {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c instanceof IllegalStateException) {
                return directives.storedVersion().thenApply(v -> new Stored(v, null));
            }
            return CompletableFuture.failedFuture(c);
        });
    }

    // ---- request parsing

    private static JsonNode body(HttpRequest req) {
        if (req.body().length == 0) {
            throw ApiException.badRequest("body", "the body must be a JSON object with ratePerSecond");
        }
        try {
            JsonNode n = HttpServer.JSON.readTree(req.body());
            if (n == null || !n.isObject()) {
                throw ApiException.badRequest("body", "the body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw ApiException.badRequest("body", "the body is not valid JSON");
        }
    }

    private long rate(JsonNode body) {
        JsonNode n = body.get("ratePerSecond");
        String rule = "ratePerSecond must be an integer between 0 and " + maxPermit + " (deliveries/s across the platform)";
        if (n == null || n.isNull()) {
            throw ApiException.badRequest("ratePerSecond", rule + "; it is missing");
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiException.badRequest("ratePerSecond", rule + ", got " + n);
        }
        long rate = n.longValue();
        if (rate < 0 || rate > maxPermit) {
            throw ApiException.badRequest("ratePerSecond", rule + ", got " + rate);
        }
        return rate;
    }

    private static String reason(JsonNode body) {
        JsonNode n = body.get("reason");
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest("reason", "reason must be a string");
        }
        if (n.asText().length() > MAX_REASON_CHARS) {
            throw ApiException.badRequest("reason", "reason must be at most " + MAX_REASON_CHARS + " characters");
        }
        return n.asText();
    }

    private static Map<String, Object> describe(ThrottleDirective d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", d.version());
        m.put("state", d.state().wire());
        m.put("permitPerSecond", d.permitPerSecond());
        m.put("source", d.source());
        m.put("reason", d.reason());
        m.put("issuedAt", d.issuedAtMillis() == 0 ? null : Instant.ofEpochMilli(d.issuedAtMillis()).toString());
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
