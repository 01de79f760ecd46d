package io.tern.logic.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.pipeline.group.GroupFanout;
import io.tern.pipeline.group.GroupPushService;
import io.tern.pipeline.group.GroupTarget;
import io.tern.pipeline.group.OutageGroupPush;
import io.tern.pipeline.group.TagExpression;
import io.tern.pipeline.intake.PushIntake;
import io.tern.logic.limits.AppLimits;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.store.idempotency.IdempotencyRepository;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskCounter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Group push API: task payloads, list / tag / all pushes, task status and recall, and tag
 * membership. taskIds travel as decimal strings, like msgIds. During a Redis outage list and all pushes of existing
 * tasks go on from the disk KV; the rest answers 503 with Retry-After ({@link OutageGroupPush}).
 */
public final class TaskApi {
    static final int MAX_TAG_CHANGES = 1000;

    private final AppAuthenticator auth;
    private final GroupPushService groups;
    private final PushIntake intake;
    private final AppLimits limits;
    private final TagRepository tags;
    private final IdempotencyRepository idempotency;
    private final MessageParser messages;
    private final Duration maxSchedule;
    private final int maxListBodyBytes;
    private final LongSupplier clock;

    public TaskApi(AppAuthenticator auth, GroupPushService groups, PushIntake intake, AppLimits limits, TagRepository tags,
                   IdempotencyRepository idempotency, Duration defaultTtl, Duration maxTtl, Duration maxSchedule,
                   int maxListBodyBytes, CallbackUrlGuard callbackGuard, LongSupplier clock) {
        this.auth = auth;
        this.groups = groups;
        this.intake = intake;
        this.limits = limits;
        this.tags = tags;
        this.idempotency = idempotency;
        this.messages = new MessageParser(defaultTtl, maxTtl, callbackGuard);
        this.maxSchedule = maxSchedule;
        this.maxListBodyBytes = maxListBodyBytes;
        this.clock = clock;
    }

    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        return http
                .route(HttpMethod.POST, "/v1/push/payload", this::payload)
                .route(HttpMethod.POST, "/v1/push/list", maxListBodyBytes, this::list)
                .route(HttpMethod.POST, "/v1/push/all", this::all)
                .route(HttpMethod.POST, "/v1/push/tag", this::tag)
                .route(HttpMethod.GET, "/v1/tasks/{taskId}", this::status)
                .route(HttpMethod.DELETE, "/v1/tasks/{taskId}", this::recall)
                .route(HttpMethod.POST, "/v1/tags/{tag}/devices", maxListBodyBytes, this::tagDevices);
    }

    private CompletableFuture<HttpResponse> payload(HttpRequest req) {
        String appId = auth.verify(req.header(PushApi.AUTH_HEADER));
        MessageParser.Body body = MessageParser.read(req.body());
        MessageParser.ParsedMessage m = messages.parse(body);
        long sendAt = 0;
        JsonNode at = body.fields().get("sendAt");
        if (at != null && !at.isNull()) {
            long now = clock.getAsLong();
            if (!at.isIntegralNumber() || !at.canConvertToLong() || at.asLong() <= now || at.asLong() > now + maxSchedule.toMillis()) {
                throw ApiException.badRequest("sendAt", "sendAt must be epoch ms in the future, at most "
                        + maxSchedule.toDays() + " days ahead");
            }
            sendAt = at.asLong();
        }
        long sendAtMillis = sendAt;
        return messages.admitCallback(m.callbackUrl())
                .thenCompose(x -> groups.createTask(appId, m.kind(), new String(m.payload(), StandardCharsets.UTF_8), m.ttlMillis(), m.callbackUrl(),
                        m.callbackParam(), sendAtMillis))
                .thenApply(id -> HttpResponse.ok(Map.of("taskId", Long.toString(id))));
    }

    private CompletableFuture<HttpResponse> list(HttpRequest req) {
        String appId = auth.verify(req.header(PushApi.AUTH_HEADER));
        JsonNode body = Json.object(req.body());
        long taskId = taskId(body.get("taskId"));
        List<String> regIds = ids(body, "regIds", GroupFanout.MAX_CHUNK, true);
        String requestId = Json.optionalId(body, "requestId");
        if (requestId == null) {
            return doList(appId, taskId, regIds);
        }
        if (groups.inOutage()) {
            // A new idempotency key must be recorded where every node sees it: Redis.
            throw OutageGroupPush.needsRedis("a list push with a requestId");
        }
        String scope = "list";
        return idempotency.claim(appId, scope, requestId).thenCompose(claim -> {
            if (!claim.first()) {
                if (claim.answer() == null) {
                    throw new ApiException(409, "request_in_progress", "requestId " + requestId + " is still being processed", "requestId");
                }
                return CompletableFuture.completedFuture(HttpResponse.ok(readJson(claim.answer())));
            }
            return doList(appId, taskId, regIds).handle((resp, err) -> {
                if (err != null) {
                    idempotency.release(appId, scope, requestId);
                    throw err instanceof RuntimeException re ? re : new IllegalStateException(err);
                }
                return idempotency.record(appId, scope, requestId, writeJson(resp.body())).thenApply(x -> resp);
            }).thenCompose(f -> f);
        });
    }

    private CompletableFuture<HttpResponse> doList(String appId, long taskId, List<String> regIds) {
        return target(appId, taskId, new GroupTarget.ListTarget(regIds), regIds.size());
    }

    private CompletableFuture<HttpResponse> all(HttpRequest req) {
        String appId = auth.verify(req.header(PushApi.AUTH_HEADER));
        long taskId = taskId(Json.object(req.body()).get("taskId"));
        return target(appId, taskId, new GroupTarget.AllTarget(), 1);
    }

    private CompletableFuture<HttpResponse> tag(HttpRequest req) {
        String appId = auth.verify(req.header(PushApi.AUTH_HEADER));
        JsonNode body = Json.object(req.body());
        long taskId = taskId(body.get("taskId"));
        TagExpression expression = TagExpression.parse(body.get("tags"));
        if (groups.inOutage()) {
            throw OutageGroupPush.needsRedis("a tag push"); // tag members are sets in Redis only
        }
        return target(appId, taskId, new GroupTarget.TagTarget(expression), 1);
    }

    /**
     * Admits the call under the app's limits, then sends (or schedules) the task to the target, or, beyond the
     * permit, buffers it ({@code "state":"queued"}, see {@link PushIntake}).
     * {@code pushes} counts against the daily quota where the target's size is known up front.
     */
    private CompletableFuture<HttpResponse> target(String appId, long taskId, GroupTarget target, long pushes) {
        // The quota's counters are in Redis: during an outage group pushes of existing tasks go on uncounted.
        CompletableFuture<Void> admitted = groups.inOutage() ? CompletableFuture.completedFuture(null)
                : limits.admit(appId, pushes);
        return admitted
                .thenCompose(x -> groups.task(appId, taskId, true))
                .thenCompose(t -> intake.task(t, target))
                .thenApply(out -> HttpResponse.json("resolving".equals(out.get("state")) ? 202 : 200, out));
    }

    private CompletableFuture<HttpResponse> status(HttpRequest req) {
        String appId = auth.verify(req.header(PushApi.AUTH_HEADER));
        long taskId = pathTaskId(req);
        return groups.task(appId, taskId, false).thenApply(t -> HttpResponse.ok(view(t)));
    }

    private CompletableFuture<HttpResponse> recall(HttpRequest req) {
        String appId = auth.verify(req.header(PushApi.AUTH_HEADER));
        long taskId = pathTaskId(req);
        return groups.recall(appId, taskId).thenApply(r -> {
            if (!r.found()) {
                throw new ApiException(404, "unknown_task", "no task " + taskId, "taskId");
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("taskId", Long.toString(taskId));
            out.put("state", "recalled");
            out.put("pending", r.pending());
            out.put("alreadyRecalled", r.alreadyRecalled());
            return HttpResponse.ok(out);
        });
    }

    private CompletableFuture<HttpResponse> tagDevices(HttpRequest req) {
        String appId = auth.verify(req.header(PushApi.AUTH_HEADER));
        String tag = req.pathParam("tag");
        if (!TagExpression.TAG.matcher(tag).matches()) {
            throw ApiException.badRequest("tag", "tag must be 1-64 characters of A-Z a-z 0-9 . _ : -");
        }
        JsonNode body = Json.object(req.body());
        List<String> add = ids(body, "add", MAX_TAG_CHANGES, false);
        List<String> remove = ids(body, "remove", MAX_TAG_CHANGES, false);
        if (add.isEmpty() && remove.isEmpty()) {
            throw ApiException.badRequest("add", "give regIds to add or remove");
        }
        if (groups.inOutage()) {
            throw OutageGroupPush.needsRedis("changing tag members");
        }
        CompletableFuture<Long> added = add.isEmpty() ? CompletableFuture.completedFuture(0L) : tags.add(appId, tag, add);
        CompletableFuture<Long> removed = remove.isEmpty() ? CompletableFuture.completedFuture(0L) : tags.remove(appId, tag, remove);
        return added.thenCombine(removed, (a, r) -> HttpResponse.ok(Map.of("tag", tag, "added", a, "removed", r)));
    }

    static Map<String, Object> view(StoredTask t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("taskId", Long.toString(t.body().taskId()));
        out.put("state", t.state().wireName());
        if (t.reason() != null) {
            out.put("reason", t.reason());
        }
        for (TaskCounter c : TaskCounter.values()) {
            out.put(c.wireName(), t.counter(c));
        }
        out.put("createdAt", t.body().createdAtMillis());
        out.put("expiresAt", t.body().expiresAtMillis());
        if (t.body().sendAtMillis() > 0) {
            out.put("sendAt", t.body().sendAtMillis());
        }
        return out;
    }

    static long taskId(JsonNode v) {
        if (v == null || v.isNull()) {
            throw ApiException.badRequest("taskId", "taskId is required");
        }
        try {
            if (v.isIntegralNumber() && !v.canConvertToLong()) {
                throw new NumberFormatException(); // asLong would wrap 2^64 + 5 to 5
            }
            long id = v.isIntegralNumber() ? v.asLong() : Long.parseLong(v.asText());
            if (id <= 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("taskId", "taskId must be a positive decimal 64-bit integer");
        }
    }

    private static long pathTaskId(HttpRequest req) {
        try {
            return Long.parseLong(req.pathParam("taskId"));
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("taskId", "taskId must be a decimal 64-bit integer");
        }
    }

    /** An array of regIds; {@code required} means at least one. */
    private static List<String> ids(JsonNode body, String field, int max, boolean required) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.badRequest(field, field + " is required");
            }
            return List.of();
        }
        if (!v.isArray() || (required && v.isEmpty())) {
            throw ApiException.badRequest(field, field + " must be a non-empty array of regIds");
        }
        if (v.size() > max) {
            throw ApiException.badRequest(field, field + " has " + v.size() + " entries, at most " + max);
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode e : (ArrayNode) v) {
            if (!e.isTextual() || !Json.isId(e.asText())) {
                throw ApiException.badRequest(field, field + " holds an invalid regId: " + e);
            }
            out.add(e.asText());
        }
        return out;
    }

    private static JsonNode readJson(String s) {
        try {
            return HttpServer.JSON.readTree(s);
        } catch (IOException e) {
            throw new IllegalStateException("unreadable recorded answer", e);
        }
    }

    private static String writeJson(Object o) {
        try {
            return HttpServer.JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
