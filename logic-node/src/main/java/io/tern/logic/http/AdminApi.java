package io.tern.logic.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.logic.apps.AppDirectory;
import io.tern.logic.apps.AppRegistry;
import io.tern.logic.auth.AppCredentials;
import io.tern.logic.config.SreToken;
import io.tern.logic.limits.AppLimits;
import io.tern.logic.limits.LimitsConfig;
import io.tern.pipeline.group.GroupPushService;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.BearerGuard;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.http.Route;
import io.tern.store.app.StoredApp;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskRepository;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The logic node's SRE admin API: apps, their secrets and limits, and any app's tasks. Every call carries
 * {@code Authorization: Bearer <logic.sre-token>} (compared in constant time), else 401. Apps and limits are stored
 * in Redis ({@link AppRegistry}): any node takes a write and every node applies it within {@code logic.apps-refresh}.
 * <pre>
 * GET  /v1/admin/apps                       {"apps":[app]}
 * POST /v1/admin/apps                       {"appId","appKey"?,"rate"?,"dailyQuota"?}  201 app + "appSecret" (shown once)
 *                                           + "clientKey" (built into the app: its devices register with it at any
 *                                           dispatcher within dispatcher.apps-refresh; shown once, never rotated)
 * GET  /v1/admin/apps/{appId}               app
 * POST /v1/admin/apps/{appId}/rotate-secret 200 {"appId","appSecret","secretRotatedAt"}: the old secret signs no more
 *                                           /v1/auth requests; auth tokens issued before stay valid until they expire;
 *                                           the client key stays (installed apps carry it)
 * GET  /v1/admin/apps/{appId}/limits        {"appId","rate","dailyQuota","source","usedToday"}
 * PUT  /v1/admin/apps/{appId}/limits        {"rate"?,"dailyQuota"?} (at least one; the other is kept)  200 limits
 * GET  /v1/admin/tasks/{taskId}             the task as GET /v1/tasks/{taskId} shows it, with its "appId"
 * POST /v1/admin/tasks/{taskId}/recall      200 {"taskId","appId","state":"recalled","pending","alreadyRecalled"}
 * app = {"appId","appKey","source":"config"|"admin","createdAt"?,"secretRotatedAt"?,"limits":{"rate","dailyQuota","source"}}
 * </pre>
 * Bad input answers 400 {@code invalid_field} naming the field; unknown apps and tasks 404 ({@code unknown_app},
 * {@code unknown_task}); an existing appId 409 {@code app_exists}; a full registry 409 {@code apps_full}; rotating the
 * secret of an app configured in {@code logic.apps.*} 409 {@code configured_app} (its secret is in the configuration).
 */
public final class AdminApi {
    public static final String APPS = "/v1/admin/apps";
    public static final String APP = "/v1/admin/apps/{appId}";
    public static final String ROTATE = "/v1/admin/apps/{appId}/rotate-secret";
    public static final String LIMITS = "/v1/admin/apps/{appId}/limits";
    public static final String TASK = "/v1/admin/tasks/{taskId}";
    public static final String RECALL = "/v1/admin/tasks/{taskId}/recall";
    static final int MAX_RATE = 1_000_000;
    /** A quota beyond this is a typo (a trillion pushes a day). */
    static final long MAX_DAILY_QUOTA = 1_000_000_000_000L;
    private static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern APP_KEY = Pattern.compile("[A-Za-z0-9._:-]{8,128}");
    /** A rotation racing another one on the same app: retried this often, then 409. */
    private static final int WRITE_ATTEMPTS = 3;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BearerGuard guard;
    private final AppDirectory apps;
    private final AppRegistry registry;
    private final AppLimits limits;
    private final TaskRepository tasks;
    private final GroupPushService groups;
    private final LongSupplier clock;

    public AdminApi(SreToken token, AppDirectory apps, AppRegistry registry, AppLimits limits, TaskRepository tasks,
                    GroupPushService groups, LongSupplier clock) {
        this.guard = new BearerGuard(token.value());
        this.apps = apps;
        this.registry = registry;
        this.limits = limits;
        this.tasks = tasks;
        this.groups = groups;
        this.clock = clock;
    }

    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        int maxBody = 4096;
        return http
                .route(HttpMethod.GET, APPS, guarded(this::list))
                .route(HttpMethod.POST, APPS, maxBody, guarded(this::create))
                .route(HttpMethod.GET, APP, guarded(this::show))
                .route(HttpMethod.POST, ROTATE, maxBody, guarded(this::rotate))
                .route(HttpMethod.GET, LIMITS, guarded(this::showLimits))
                .route(HttpMethod.PUT, LIMITS, maxBody, guarded(this::setLimits))
                .route(HttpMethod.GET, TASK, guarded(this::task))
                .route(HttpMethod.POST, RECALL, maxBody, guarded(this::recall));
    }

    private Route.Handler guarded(Route.Handler handler) {
        return guard.guard(handler);
    }

    // ---- apps

    private CompletableFuture<HttpResponse> list(HttpRequest req) {
        return apps.reload().thenApply(x -> {
            TreeSet<String> ids = new TreeSet<>(apps.configuredIds());
            ids.addAll(apps.storedIds());
            List<Map<String, Object>> out = new ArrayList<>(ids.size());
            ids.forEach(id -> out.add(view(id)));
            return HttpResponse.ok(Map.of("apps", out));
        });
    }

    private CompletableFuture<HttpResponse> show(HttpRequest req) {
        String appId = appId(req);
        return apps.reload().thenApply(x -> HttpResponse.ok(view(known(appId))));
    }

    private CompletableFuture<HttpResponse> create(HttpRequest req) {
        JsonNode body = Json.object(req.body());
        String appId = Json.requiredString(body, "appId");
        if (!APP_ID.matcher(appId).matches()) {
            throw ApiException.badRequest("appId", "appId must be 1-64 characters of A-Z a-z 0-9 . _ -");
        }
        String appKey = optionalText(body, "appKey");
        if (appKey != null && !APP_KEY.matcher(appKey).matches()) {
            throw ApiException.badRequest("appKey", "appKey must be 8-128 characters of A-Z a-z 0-9 . _ : -");
        }
        Integer rate = rate(body);
        Long quota = dailyQuota(body);
        if (apps.configured(appId)) {
            throw new ApiException(409, "app_exists", "app " + appId + " is configured (logic.apps." + appId + ")", "appId");
        }
        AppCredentials created = new AppCredentials(appId, appKey != null ? appKey : random(16), random(32));
        String clientKey = random(32);
        long now = clock.getAsLong();
        return registry.create(created, clientKey, now).thenCompose(result -> switch (result) {
            case EXISTS -> throw new ApiException(409, "app_exists", "app " + appId + " exists", "appId");
            case FULL -> throw new ApiException(409, "apps_full", "the registry holds its most apps (logic.apps-max)", null);
            case CREATED -> rate == null && quota == null ? CompletableFuture.<Void>completedFuture(null)
                    : registry.setLimits(appId, merged(appId, rate, quota));
        }).thenCompose(x -> apps.reload()).thenApply(x -> {
            Map<String, Object> out = view(appId);
            out.put("appSecret", created.appSecret());
            out.put("clientKey", clientKey);
            return HttpResponse.json(201, out);
        });
    }

    private CompletableFuture<HttpResponse> rotate(HttpRequest req) {
        String appId = appId(req);
        return apps.reload().thenCompose(x -> {
            known(appId);
            if (apps.configured(appId)) {
                throw new ApiException(409, "configured_app", "app " + appId + "'s secret is configured (logic.apps."
                        + appId + ".secret): change it there", "appId");
            }
            return rotate(appId, random(32), WRITE_ATTEMPTS);
        });
    }

    private CompletableFuture<HttpResponse> rotate(String appId, String secret, int left) {
        StoredApp before = apps.stored(appId);
        long now = clock.getAsLong();
        return registry.rotate(before, secret, now).thenCompose(done -> {
            if (!done) {
                if (left <= 1) {
                    throw new ApiException(409, "stale_app", "app " + appId + " changed while its secret was rotated; "
                            + "retry", null);
                }
                return apps.reload().thenCompose(x -> rotate(appId, secret, left - 1));
            }
            return apps.reload().thenApply(x -> {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("appId", appId);
                out.put("appSecret", secret);
                out.put("secretRotatedAt", Instant.ofEpochMilli(now).toString());
                return HttpResponse.ok(out);
            });
        });
    }

    private CompletableFuture<HttpResponse> showLimits(HttpRequest req) {
        String appId = appId(req);
        return apps.reload().thenCompose(x -> limitsView(known(appId)));
    }

    private CompletableFuture<HttpResponse> setLimits(HttpRequest req) {
        String appId = appId(req);
        JsonNode body = Json.object(req.body());
        Integer rate = rate(body);
        Long quota = dailyQuota(body);
        if (rate == null && quota == null) {
            throw ApiException.badRequest("rate", "give rate, dailyQuota or both");
        }
        return apps.reload().thenCompose(x -> {
            known(appId);
            return registry.setLimits(appId, merged(appId, rate, quota));
        }).thenCompose(x -> apps.reload()).thenCompose(x -> limitsView(appId));
    }

    private CompletableFuture<HttpResponse> limitsView(String appId) {
        return limits.usedToday(appId).thenApply(used -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("appId", appId);
            out.putAll(limitsOf(appId));
            out.put("usedToday", used);
            return HttpResponse.ok(out);
        });
    }

    private LimitsConfig.AppLimit merged(String appId, Integer rate, Long quota) {
        LimitsConfig.AppLimit now = apps.limit(appId);
        return new LimitsConfig.AppLimit(rate != null ? rate : now.rate(), quota != null ? quota : now.dailyQuota());
    }

    private Map<String, Object> view(String appId) {
        AppCredentials c = apps.credentials(appId);
        StoredApp stored = apps.configured(appId) ? null : apps.stored(appId);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("appId", appId);
        out.put("appKey", c.appKey());
        out.put("source", stored == null ? "config" : "admin");
        if (stored != null) {
            out.put("createdAt", Instant.ofEpochMilli(stored.createdAtMillis()).toString());
            out.put("secretRotatedAt", Instant.ofEpochMilli(stored.secretRotatedAtMillis()).toString());
        }
        out.put("limits", limitsOf(appId));
        return out;
    }

    private Map<String, Object> limitsOf(String appId) {
        LimitsConfig.AppLimit l = apps.limit(appId);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rate", l.rate());
        out.put("dailyQuota", l.dailyQuota());
        out.put("source", apps.limitSource(appId));
        return out;
    }

    private String known(String appId) {
        if (apps.credentials(appId) == null) {
            throw new ApiException(404, "unknown_app", "no app " + appId, "appId");
        }
        return appId;
    }

    // ---- tasks

    private CompletableFuture<HttpResponse> task(HttpRequest req) {
        long taskId = taskId(req);
        return owner(taskId).thenCompose(appId -> groups.task(appId, taskId, false)).thenApply(t -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("appId", t.body().appId());
            out.putAll(TaskApi.view(t));
            return HttpResponse.ok(out);
        });
    }

    private CompletableFuture<HttpResponse> recall(HttpRequest req) {
        long taskId = taskId(req);
        return owner(taskId).thenCompose(appId -> groups.recall(appId, taskId).thenApply(r -> {
            if (!r.found()) {
                throw unknownTask(taskId);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("taskId", Long.toString(taskId));
            out.put("appId", appId);
            out.put("state", "recalled");
            out.put("pending", r.pending());
            out.put("alreadyRecalled", r.alreadyRecalled());
            return HttpResponse.ok(out);
        }));
    }

    /** The app the task belongs to (an SRE acts on any app's task). */
    private CompletableFuture<String> owner(long taskId) {
        return tasks.find(taskId).thenApply(t -> {
            if (t == null) {
                throw unknownTask(taskId);
            }
            return t.body().appId();
        });
    }

    private static ApiException unknownTask(long taskId) {
        return new ApiException(404, "unknown_task", "no task " + taskId, "taskId");
    }

    // ---- request parsing

    private static String appId(HttpRequest req) {
        String appId = req.pathParam("appId");
        if (!APP_ID.matcher(appId).matches()) {
            throw ApiException.badRequest("appId", "appId must be 1-64 characters of A-Z a-z 0-9 . _ -");
        }
        return appId;
    }

    private static long taskId(HttpRequest req) {
        String v = req.pathParam("taskId");
        try {
            long id = Long.parseLong(v);
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest("taskId", "taskId must be a positive decimal 64-bit integer, got '" + v + "'");
    }

    private static String optionalText(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest(field, field + " must be a string");
        }
        return n.asText();
    }

    private static Integer rate(JsonNode body) {
        JsonNode n = body.get("rate");
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1 || n.intValue() > MAX_RATE) {
            throw ApiException.badRequest("rate", "rate must be an integer between 1 and " + MAX_RATE
                    + " (API requests per second across every logic node), got " + n);
        }
        return n.intValue();
    }

    private static Long dailyQuota(JsonNode body) {
        JsonNode n = body.get("dailyQuota");
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 1 || n.longValue() > MAX_DAILY_QUOTA) {
            throw ApiException.badRequest("dailyQuota", "dailyQuota must be an integer between 1 and " + MAX_DAILY_QUOTA
                    + " (pushes per UTC day), got " + n);
        }
        return n.longValue();
    }

    private static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
