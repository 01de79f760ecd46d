package io.tern.scheduler.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.BearerGuard;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.http.Route;
import io.tern.scheduler.move.MoveCoordinator;
import io.tern.scheduler.move.MoveFigures;
import io.tern.scheduler.policy.PolicyStep;
import io.tern.scheduler.policy.Refusal;
import io.tern.scheduler.policy.RefusedException;
import io.tern.scheduler.policy.RegionCommands;
import io.tern.store.region.Region;
import io.tern.store.region.RegionMove;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.region.PolicyChange;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The SRE admin API. Every call carries {@code Authorization: Bearer <sre-token>} (compared in constant
 * time), else 401. Reads come from Redis (a write on any instance is seen at once by a read on any other);
 * writes are a compare-and-set of the policy, so any instance, leader or not, takes them. Handlers never
 * block: they chain on the store's futures.
 * <pre>
 * GET  /v1/regions                     {"version","regions":[{"name","state","servedBy","brokers","connections",
 *                                      "deliveriesPerSecond","move"?}]}
 * POST /v1/regions/{name}/failover     {"to","ratePerSecond"?,"reason"?}   202 {"version"}
 * POST /v1/regions/{name}/failback     {"ratePerSecond"?,"reason"?}        202 {"version"}
 * GET  /v1/regions/{name}/move         the move's progress (or the last finished one, or {"moving":false})
 * GET  /v1/regions/history?limit=N     {"changes":[{"version","at","by","action","region","detail"}]}, newest first
 * </pre>
 * A write with {@code If-Match: <version>} is refused 409 unless the policy is still at that version.
 */
public final class AdminApi {
    public static final String REGIONS = "/v1/regions";
    public static final String FAILOVER = "/v1/regions/{name}/failover";
    public static final String FAILBACK = "/v1/regions/{name}/failback";
    public static final String MOVE = "/v1/regions/{name}/move";
    public static final String HISTORY = "/v1/regions/history";
    /** Who SRE changes are recorded as (one shared token). */
    public static final String SRE = "sre";
    /** Writes retried this often when a scheduler step lands between our read and our write. */
    private static final int WRITE_ATTEMPTS = 5;
    private static final int MAX_REASON_CHARS = 500;
    private static final int DEFAULT_HISTORY = 50;

    private final BearerGuard guard;
    private final RegionPolicyRepository repository;
    private final Supplier<BrokerSnapshot> brokers;
    private final Supplier<Map<String, MoveFigures>> figures;
    private final RegionCommands commands;
    private final List<String> configuredRegions;
    private final int defaultRate;
    private final int stageCount;
    private final int historyMax;
    private final Clock clock;

    /**
     * @param figures progress of the moves under way as the local tick last saw them (for the observed rate)
     */
    public AdminApi(byte[] sreToken, RegionPolicyRepository repository, Supplier<BrokerSnapshot> brokers,
                    Supplier<Map<String, MoveFigures>> figures, RegionCommands commands, List<String> configuredRegions,
                    int defaultRate, int historyMax, Clock clock) {
        this.guard = new BearerGuard(new String(sreToken, StandardCharsets.UTF_8));
        this.repository = repository;
        this.brokers = brokers;
        this.figures = figures;
        this.commands = commands;
        this.configuredRegions = List.copyOf(configuredRegions);
        this.defaultRate = defaultRate;
        this.stageCount = commands.stages().size();
        this.historyMax = historyMax;
        this.clock = clock;
    }

    /** Adds the admin routes to the scheduler's server. */
    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        // Bodies are a region name, a number and a reason.
        int maxBody = 4096;
        return http
                .route(HttpMethod.GET, REGIONS, guarded(this::regions))
                .route(HttpMethod.GET, HISTORY, guarded(this::history))
                .route(HttpMethod.POST, FAILOVER, maxBody, guarded(this::failover))
                .route(HttpMethod.POST, FAILBACK, maxBody, guarded(this::failback))
                .route(HttpMethod.GET, MOVE, guarded(this::move));
    }

    /** The handler behind the SRE token check (constant time), else 401; for every admin route (also the console's). */
    public Route.Handler guarded(Route.Handler handler) {
        return guard.guard(req -> {
            CompletableFuture<HttpResponse> f;
            try {
                f = handler.handle(req);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            return f.handle((resp, err) -> {
                if (err == null) {
                    return resp;
                }
                Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                if (e instanceof RefusedException r) {
                    throw new CompletionException(toApi(r));
                }
                throw err instanceof CompletionException ce ? ce : new CompletionException(err);
            });
        });
    }

    static ApiException toApi(RefusedException r) {
        int status = switch (r.refusal()) {
            case UNKNOWN_REGION -> 404;
            case INVALID_FIELD -> 400;
            case REGION_MOVING, REGION_NOT_ACTIVE, REGION_NOT_FAILED_OVER, TARGET_UNAVAILABLE, STALE_VERSION -> 409;
        };
        return new ApiException(status, r.refusal().code(), r.getMessage(), r.field());
    }

    // ---- reads

    private CompletableFuture<HttpResponse> regions(HttpRequest req) {
        return repository.load().thenApply(policy -> {
            BrokerSnapshot snapshot = brokers.get();
            Map<String, long[]> counts = counts(snapshot);
            Map<String, Double> deliveries = deliveries(snapshot);
            List<Map<String, Object>> out = new ArrayList<>();
            for (String name : known(policy, snapshot)) {
                Region r = policy.region(name);
                long[] c = counts.getOrDefault(name, new long[2]);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", name);
                row.put("state", r.state().wire());
                row.put("servedBy", r.servedBy());
                row.put("brokers", c[0]);
                row.put("connections", c[1]);
                row.put("deliveriesPerSecond", Math.round(deliveries.getOrDefault(name, 0.0) * 10) / 10.0);
                if (r.move() != null) {
                    row.put("move", progress(r, r.move(), snapshot));
                }
                out.add(row);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("version", policy.version());
            body.put("regions", out);
            return new HttpResponse(200, body, "application/json", Map.of("ETag", "\"" + policy.version() + "\""));
        });
    }

    private CompletableFuture<HttpResponse> move(HttpRequest req) {
        String name = req.pathParam("name");
        return repository.load().thenApply(policy -> {
            BrokerSnapshot snapshot = brokers.get();
            if (!known(policy, snapshot).contains(name)) {
                throw Refusal.UNKNOWN_REGION.because("no region named '" + name + "'");
            }
            Region r = policy.region(name);
            if (r.move() != null) {
                return HttpResponse.ok(progress(r, r.move(), snapshot));
            }
            if (r.lastMove() != null) {
                return HttpResponse.ok(progress(r, r.lastMove(), snapshot));
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("region", name);
            body.put("moving", false);
            body.put("state", r.state().wire());
            body.put("servedBy", r.servedBy());
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
        return repository.history(limit).thenApply(changes -> {
            List<Map<String, Object>> out = new ArrayList<>(changes.size());
            for (PolicyChange c : changes) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("version", c.version());
                row.put("at", Instant.ofEpochMilli(c.atMillis()).toString());
                row.put("by", c.by());
                row.put("action", c.action());
                row.put("region", c.region());
                row.put("detail", c.detail());
                out.add(row);
            }
            return HttpResponse.ok(Map.of("changes", out));
        });
    }

    /** Progress of {@code move} (under way or, with {@code finishedAt}, the last finished one). */
    private Map<String, Object> progress(Region region, RegionMove move, BrokerSnapshot snapshot) {
        boolean moving = move.finishedAtMillis() == null;
        Long covered = move.coveredAtStart();
        long left = moving ? MoveCoordinator.left(region.name(), move, snapshot) : 0;
        MoveFigures f = moving ? figures.get().get(region.name()) : null;
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("region", region.name());
        p.put("moving", moving);
        p.put("state", region.state().wire());
        p.put("direction", move.direction().wire());
        p.put("from", move.from());
        p.put("to", move.to());
        p.put("stage", move.stage());
        p.put("stages", stageCount);
        p.put("stageFraction", move.stageFraction());
        p.put("coveredAtStart", covered);
        p.put("moved", covered == null ? 0 : Math.max(0, covered - left));
        p.put("left", left);
        p.put("currentRatePerSecond", f == null ? 0.0 : Math.round(f.currentRatePerSecond() * 10) / 10.0);
        p.put("ratePerSecond", move.ratePerSecond());
        p.put("paused", move.paused());
        p.put("pausedReason", move.pausedReason());
        p.put("startedAt", Instant.ofEpochMilli(move.startedAtMillis()).toString());
        if (!moving) {
            p.put("finishedAt", Instant.ofEpochMilli(move.finishedAtMillis()).toString());
        }
        return p;
    }

    // ---- writes

    private CompletableFuture<HttpResponse> failover(HttpRequest req) {
        String name = req.pathParam("name");
        JsonNode body = body(req);
        String to = text(body, "to");
        int rate = rate(body);
        String reason = reason(body);
        return write(req, policy -> commands.failover(policy, known(policy, brokers.get()), liveBrokers(), name, to,
                rate, reason, SRE, clock.millis()));
    }

    private CompletableFuture<HttpResponse> failback(HttpRequest req) {
        String name = req.pathParam("name");
        JsonNode body = body(req);
        int rate = rate(body);
        String reason = reason(body);
        return write(req, policy -> commands.failback(policy, known(policy, brokers.get()), name, rate, reason, SRE,
                clock.millis()));
    }

    private CompletableFuture<HttpResponse> write(HttpRequest req, Function<RegionPolicy, PolicyStep> command) {
        Long ifMatch = ifMatch(req.header("If-Match"));
        return attempt(command, ifMatch, WRITE_ATTEMPTS)
                .thenApply(step -> HttpResponse.json(202, Map.of("version", step.next().version())));
    }

    private CompletableFuture<PolicyStep> attempt(Function<RegionPolicy, PolicyStep> command, Long ifMatch, int left) {
        return repository.load().thenCompose(policy -> {
            RegionCommands.requireVersion(policy, ifMatch);
            PolicyStep step = command.apply(policy);
            return repository.replace(step.next(), step.change()).thenCompose(stored -> {
                if (stored) {
                    return CompletableFuture.completedFuture(step);
                }
                if (ifMatch != null || left <= 1) {
                    throw Refusal.STALE_VERSION.because("the policy changed while this request was applied; read it "
                            + "again and retry", ifMatch != null ? "If-Match" : null);
                }
                return attempt(command, null, left - 1);
            });
        });
    }

    // ---- request parsing

    private static JsonNode body(HttpRequest req) {
        if (req.body().length == 0) {
            return HttpServer.JSON.createObjectNode();
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

    private static String text(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest(field, field + " must be a string");
        }
        return n.asText();
    }

    private int rate(JsonNode body) {
        JsonNode n = body.get("ratePerSecond");
        if (n == null || n.isNull()) {
            return defaultRate;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            // Out of int range is out of bounds too.
            throw ApiException.badRequest("ratePerSecond", "ratePerSecond must be an integer between "
                    + commands.minRate() + " and " + commands.maxRate());
        }
        return n.intValue();
    }

    private static String reason(JsonNode body) {
        String reason = text(body, "reason");
        if (reason != null && reason.length() > MAX_REASON_CHARS) {
            throw ApiException.badRequest("reason", "reason must be at most " + MAX_REASON_CHARS + " characters");
        }
        return reason;
    }

    /** {@code If-Match: 7}, {@code "7"} or {@code W/"7"}; null when absent. */
    private static Long ifMatch(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String v = header.trim();
        if (v.startsWith("W/")) {
            v = v.substring(2);
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("If-Match", "If-Match must be a policy version, got '" + header + "'");
        }
    }

    // ---- regions

    /** The policy's regions, the configured ones and those of live brokers, sorted. */
    private Set<String> known(RegionPolicy policy, BrokerSnapshot snapshot) {
        Set<String> names = new TreeSet<>(configuredRegions);
        policy.regions().forEach(r -> names.add(r.name()));
        snapshot.brokers().forEach(b -> names.add(b.region()));
        return names;
    }

    private Map<String, Integer> liveBrokers() {
        Map<String, Integer> out = new TreeMap<>();
        brokers.get().brokers().forEach(b -> out.merge(b.region(), 1, Integer::sum));
        return out;
    }

    /** Deliveries per second of each region's live brokers, as they last reported. */
    private static Map<String, Double> deliveries(BrokerSnapshot snapshot) {
        Map<String, Double> out = new TreeMap<>();
        snapshot.brokers().forEach(b -> out.merge(b.region(), b.deliveries().perSecond(), Double::sum));
        return out;
    }

    private static Map<String, long[]> counts(BrokerSnapshot snapshot) {
        Map<String, long[]> out = new TreeMap<>();
        for (BrokerInfo b : snapshot.brokers()) {
            long[] v = out.computeIfAbsent(b.region(), k -> new long[2]);
            v[0]++;
            v[1] += b.connections();
        }
        return out;
    }
}
