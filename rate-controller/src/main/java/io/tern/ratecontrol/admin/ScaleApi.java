package io.tern.ratecontrol.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.pipeline.buffer.BufferBacklog;
import io.tern.ratecontrol.scale.ScaleConfig;
import io.tern.ratecontrol.scale.ScaleDecision;
import io.tern.ratecontrol.scale.Scaler;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.http.Route;
import io.tern.store.throttle.ReplicaFloor;
import io.tern.store.throttle.ReplicaFloorRepository;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The SRE side of autoscaling. Floors live in Redis, so any instance, leader or not, takes and shows them.
 * <pre>
 * GET    /v1/scale              {"mode","scaling","leading","targetReplicas","replicas","lag","partitions","lagError",
 *                                "activeFloors":[floor],"upcomingFloors":[floor],
 *                                "decision":{"target","wanted","why","at"}|null,"error"|null}
 *                                lag and partitions: the buffer's as read in every mode, null with lagError saying
 *                                why when not read recently (Kafka unreachable, no topic): never a stale or made-up 0
 * POST   /v1/scale/floors       {"at": epoch ms | ISO-8601 (default now), "replicas": N, "for": "30m",
 *                                "reason"?, "id"?}   201 floor
 * DELETE /v1/scale/floors/{id}  200 {"id","deleted":true}; 404 floor_not_found
 * floor = {"id","from","until","replicas","reason"} (from/until epoch ms)
 * </pre>
 * Bad input answers 400 {@code invalid_field} naming the field; a full floor table 409 {@code too_many_floors}.
 */
public final class ScaleApi {
    public static final String SCALE = "/v1/scale";
    public static final String FLOORS = "/v1/scale/floors";
    public static final String FLOOR = "/v1/scale/floors/{id}";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final int MAX_REASON_CHARS = 500;

    private final ScaleConfig config;
    private final ReplicaFloorRepository floors;
    /** The local scaler's last status, or null when scaling is off. */
    private final Supplier<Scaler.Status> status;
    private final BufferBacklog backlog;
    private final Supplier<Long> clock;

    public ScaleApi(ScaleConfig config, ReplicaFloorRepository floors, Supplier<Scaler.Status> status,
                    BufferBacklog backlog, Supplier<Long> clock) {
        this.config = config;
        this.floors = floors;
        this.status = status;
        this.backlog = backlog;
        this.clock = clock;
    }

    /** Adds the routes, each behind {@code guard} (the SRE token check). */
    public HttpServer.Builder addRoutes(HttpServer.Builder http, UnaryOperator<Route.Handler> guard) {
        return http
                .route(HttpMethod.GET, SCALE, guard.apply(this::show))
                .route(HttpMethod.POST, FLOORS, 4096, guard.apply(this::addFloor))
                .route(HttpMethod.DELETE, FLOOR, guard.apply(this::deleteFloor));
    }

    private CompletableFuture<HttpResponse> show(HttpRequest req) {
        long now = clock.get();
        return floors.current(now).thenApply(all -> {
            List<Map<String, Object>> active = new ArrayList<>();
            List<Map<String, Object>> upcoming = new ArrayList<>();
            for (ReplicaFloor f : all) {
                (f.activeAt(now) ? active : upcoming).add(floor(f));
            }
            Scaler.Status s = status.get();
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("mode", config.mode().name().toLowerCase(java.util.Locale.ROOT));
            body.put("scaling", s == null ? null : s.target());
            body.put("leading", s != null && s.leading());
            ScaleDecision.Outcome last = s == null ? null : s.last();
            body.put("targetReplicas", last == null ? null : last.target());
            body.put("replicas", s == null || s.replicas() < 0 ? null : s.replicas());
            BufferBacklog.Snapshot buffer = backlog.snapshot();
            boolean fresh = backlog.fresh();
            body.put("lag", fresh ? buffer.total() : null);
            body.put("partitions", fresh ? buffer.partitions() : null);
            body.put("lagError", fresh ? null : lagUnknown(buffer));
            body.put("activeFloors", active);
            body.put("upcomingFloors", upcoming);
            if (last == null) {
                body.put("decision", null);
            } else {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("target", last.target());
                d.put("wanted", last.wanted());
                d.put("why", last.why());
                d.put("at", last.atMillis());
                body.put("decision", d);
            }
            body.put("error", s == null ? null : s.error());
            return HttpResponse.ok(body);
        });
    }

    private CompletableFuture<HttpResponse> addFloor(HttpRequest req) {
        JsonNode body = body(req);
        long now = clock.get();
        long at = at(body.get("at"), now);
        int replicas = replicas(body.get("replicas"));
        Duration length = length(body.get("for"));
        String reason = text(body, "reason", MAX_REASON_CHARS);
        String id = text(body, "id", 64);
        if (id == null) {
            id = "sre-" + UUID.randomUUID().toString().substring(0, 8);
        } else if (!ID.matcher(id).matches()) {
            throw ApiException.badRequest("id", "id must match " + ID);
        }
        long until = at + length.toMillis();
        if (until <= now) {
            throw ApiException.badRequest("at", "the floor would already be over: at + for is in the past");
        }
        ReplicaFloor floor = new ReplicaFloor(id, at, until, replicas, reason == null ? "sre" : "sre: " + reason);
        return floors.put(floor).thenApply(stored -> {
            if (!stored) {
                throw new ApiException(409, "too_many_floors", config.maxFloors()
                        + " floors are stored already (ratecontrol.scale.max-floors): delete one first", null);
            }
            return HttpResponse.json(201, floor(floor));
        });
    }

    private CompletableFuture<HttpResponse> deleteFloor(HttpRequest req) {
        String id = req.pathParam("id");
        return floors.delete(id).thenApply(deleted -> {
            if (!deleted) {
                throw ApiException.notFound("floor_not_found", "no floor with id '" + id + "'");
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", id);
            body.put("deleted", true);
            return HttpResponse.ok(body);
        });
    }

    /** Why the lag is not shown, with the last figure read if there is one. */
    private String lagUnknown(BufferBacklog.Snapshot last) {
        String error = backlog.error();
        StringBuilder why = new StringBuilder(error != null
                ? "cannot read it from Kafka at " + config.kafkaBootstrap() + ": " + error
                : last.known() ? "not read recently from Kafka at " + config.kafkaBootstrap()
                : "not read yet from Kafka at " + config.kafkaBootstrap());
        if (last.known()) {
            why.append(" (last read: ").append(last.total()).append(" records at ")
                    .append(Instant.ofEpochMilli(last.readAtMillis())).append(')');
        }
        return why.toString();
    }

    static Map<String, Object> floor(ReplicaFloor f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", f.id());
        m.put("from", f.fromMillis());
        m.put("until", f.untilMillis());
        m.put("replicas", f.replicas());
        m.put("reason", f.reason());
        return m;
    }

    private static JsonNode body(HttpRequest req) {
        if (req.body().length == 0) {
            throw ApiException.badRequest("replicas", "a JSON body {\"at\",\"replicas\",\"for\"} is required");
        }
        try {
            JsonNode n = HttpServer.JSON.readTree(req.body());
            if (n == null || !n.isObject()) {
                throw ApiException.badRequest("body", "the body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw ApiException.badRequest("body", "the body is not JSON: " + e.getMessage());
        }
    }

    /** Epoch ms (number or digits) or an ISO-8601 instant / date-time with offset; absent = now. */
    static long at(JsonNode v, long now) {
        if (v == null || v.isNull()) {
            return now;
        }
        if (v.isIntegralNumber()) {
            return requirePositive(v.asLong());
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("at", "at must be epoch milliseconds or an ISO-8601 time");
        }
        String s = v.asText().trim();
        if (s.matches("\\d{1,15}")) {
            return requirePositive(Long.parseLong(s));
        }
        try {
            return Instant.parse(s).toEpochMilli();
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(s).toInstant().toEpochMilli();
            } catch (DateTimeParseException e2) {
                throw ApiException.badRequest("at", "at must be epoch milliseconds or an ISO-8601 time such as "
                        + "2026-12-24T18:00:00Z, got '" + s + "'");
            }
        }
    }

    private static long requirePositive(long ms) {
        if (ms <= 0) {
            throw ApiException.badRequest("at", "at must be a positive epoch millisecond time");
        }
        return ms;
    }

    private static int replicas(JsonNode v) {
        if (v == null || !v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > ReplicaFloor.MAX_REPLICAS) {
            throw ApiException.badRequest("replicas", "replicas must be an integer in [1, " + ReplicaFloor.MAX_REPLICAS + "]");
        }
        return v.asInt();
    }

    private Duration length(JsonNode v) {
        if (v == null || !v.isTextual()) {
            throw ApiException.badRequest("for", "for must be a duration such as \"30m\" or \"2h\"");
        }
        Duration d;
        try {
            d = Settings.parseDuration("for", v.asText());
        } catch (ConfigException e) {
            throw ApiException.badRequest("for", "for must be a duration such as \"30m\" or \"2h\", got '" + v.asText() + "'");
        }
        if (d.toMillis() < 1000 || d.compareTo(config.maxFloorFor()) > 0) {
            throw ApiException.badRequest("for", "for must be between 1s and " + config.maxFloorFor()
                    + " (ratecontrol.scale.max-floor-for)");
        }
        return d;
    }

    private static String text(JsonNode body, String field, int max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual() || v.asText().length() > max) {
            throw ApiException.badRequest(field, field + " must be a string of at most " + max + " characters");
        }
        return v.asText();
    }
}
