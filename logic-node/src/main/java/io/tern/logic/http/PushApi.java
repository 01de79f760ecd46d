package io.tern.logic.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.logic.config.LogicConfig;
import io.tern.logic.limits.AppLimits;
import io.tern.pipeline.single.SinglePush;
import io.tern.pipeline.intake.PushIntake;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.store.auth.UsedSignatures;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.StoredMessage;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.pipeline.outage.StorageMode;
import io.tern.store.diskkv.AsideMessage;
import io.tern.store.diskkv.DiskKv;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;

/**
 * The app-server API: {@code POST /v1/auth}, {@code POST /v1/push/single},
 * {@code GET /v1/messages/{msgId}}. msgIds travel as decimal strings: they are 64-bit and
 * JavaScript numbers are not. A push beyond the permit is answered {@code "status":"queued"}
 * ({@link PushIntake}), and reads {@code queued} until a bypass consumer delivers it.
 */
public final class PushApi {
    public static final String AUTH_HEADER = "authToken";

    private final AppAuthenticator auth;
    private final UsedSignatures usedSignatures;
    private final PushIntake intake;
    private final MessageRepository messages;
    private final AppLimits limits;
    private final LogicConfig config;
    private final LongSupplier clock;
    private final MessageParser messageParser;
    private volatile StorageMode storage;
    private volatile DiskKv diskKv;

    public PushApi(AppAuthenticator auth, UsedSignatures usedSignatures, PushIntake intake,
                   MessageRepository messages, AppLimits limits, LogicConfig config, CallbackUrlGuard callbackGuard,
                   LongSupplier clock) {
        this.auth = auth;
        this.usedSignatures = usedSignatures;
        this.intake = intake;
        this.messages = messages;
        this.limits = limits;
        this.config = config;
        this.clock = clock;
        this.messageParser = new MessageParser(config.defaultTtl(), config.maxTtl(), callbackGuard);
    }

    /**
     * Outside {@link StorageMode#normal()}: per-app rate limits and quota (kept in Redis) are not applied (the node's
     * permit share still bounds it), and a message accepted aside is read from its disk-KV record ({@code diskKv},
     * null when none).
     */
    public PushApi answerInOutage(StorageMode storage, DiskKv diskKv) {
        this.storage = storage;
        this.diskKv = diskKv;
        return this;
    }

    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        return http
                .route(HttpMethod.POST, "/v1/auth", this::authenticate)
                .route(HttpMethod.POST, "/v1/push/single", this::pushSingle)
                .route(HttpMethod.GET, "/v1/messages/{msgId}", this::messageStatus);
    }

    private CompletableFuture<HttpResponse> authenticate(HttpRequest req) {
        JsonNode body = Json.object(req.body());
        String appId = Json.requiredString(body, "appId");
        String appKey = Json.requiredString(body, "appKey");
        long timestamp = Json.requiredLong(body, "timestamp");
        String sign = Json.requiredString(body, "sign");
        AppAuthenticator.IssuedToken t = auth.authenticate(appId, appKey, timestamp, sign);
        // Only a valid signature gets this far, so nobody without the app secret can fill Redis with keys.
        // Hex parsing ignores case: the lowercase form is the one signature, whatever case was sent.
        return usedSignatures.claim(appId, timestamp, sign.toLowerCase(Locale.ROOT), config.authClockSkew().multipliedBy(2))
                .thenApply(first -> {
                    if (!first) {
                        throw ApiException.unauthorized("this signed request was already used; sign a new timestamp");
                    }
                    return HttpResponse.ok(Map.of("authToken", t.authToken(), "expiresAt", t.expiresAt()));
                });
    }

    private CompletableFuture<HttpResponse> pushSingle(HttpRequest req) {
        String appId = auth.verify(req.header(AUTH_HEADER));
        SinglePush push = parseSinglePush(req.body());
        StorageMode mode = storage;
        boolean limited = mode == null || mode.normal();
        return messageParser.admitCallback(push.callbackUrl())
                .thenCompose(x -> limited ? limits.admit(appId, 1) : CompletableFuture.<Void>completedFuture(null))
                .thenCompose(x -> intake.single(appId, push)).handle((out, err) -> {
            if (err != null) {
                Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                if (cause instanceof BrokerLinks.SaturatedException) {
                    throw new CompletionException(new ApiException(429, "overloaded",
                            "too many pushes in flight; retry after 1 s", null));
                }
                throw err instanceof CompletionException ce ? ce : new CompletionException(err);
            }
            // Written directly: a decimal and a status name need no escaping, and this runs once per push.
            return HttpResponse.ok("{\"msgId\":\"" + out.msgId() + "\",\"status\":\"" + out.status().wireName() + "\"}");
        });
    }

    /** One pass over the body, no tree of the payload: this runs once per push. */
    SinglePush parseSinglePush(byte[] json) {
        MessageParser.Body body = MessageParser.read(json);
        String regId = Json.requiredId(body.fields(), "regId");
        MessageParser.ParsedMessage m = messageParser.parse(body);
        return new SinglePush(regId, m.kind(), m.payload(), m.ttlMillis(), Json.optionalId(body.fields(), "requestId"),
                m.callbackUrl(), m.callbackParam());
    }

    private CompletableFuture<HttpResponse> messageStatus(HttpRequest req) {
        String appId = auth.verify(req.header(AUTH_HEADER));
        long msgId;
        try {
            msgId = Long.parseLong(req.pathParam("msgId"));
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("msgId", "msgId must be a decimal 64-bit integer");
        }
        StorageMode mode = storage;
        if (mode != null && !mode.normal()) {
            return asideStatus(appId, msgId, mode);
        }
        return messages.find(msgId).thenApply(m -> {
            if (m == null || !m.appId().equals(appId)) {
                throw unknownMessage(appId, msgId);
            }
            return HttpResponse.ok(view(m));
        });
    }

    private static ApiException unknownMessage(String appId, long msgId) {
        return new ApiException(404, "unknown_message", "no message " + msgId + " for app " + appId, "msgId");
    }

    /**
     * In an outage or while reconciling: Redis' record if it answers and has one, else the aside record of a push
     * accepted during the outage; a message only Redis knows cannot be read while it is away (503).
     */
    private CompletableFuture<HttpResponse> asideStatus(String appId, long msgId, StorageMode mode) {
        CompletableFuture<StoredMessage> inRedis = mode.mode() == StorageMode.Mode.OUTAGE
                ? CompletableFuture.completedFuture(null)
                : messages.find(msgId).exceptionally(e -> null);
        return inRedis.thenCompose(m -> {
            if (m != null) {
                if (!m.appId().equals(appId)) {
                    throw unknownMessage(appId, msgId);
                }
                return CompletableFuture.completedFuture(HttpResponse.ok(view(m)));
            }
            DiskKv kv = diskKv;
            if (kv == null) {
                throw outage(msgId);
            }
            return kv.asideRecord(msgId).exceptionally(e -> null).thenApply(json -> {
                if (json == null) {
                    if (mode.mode() == StorageMode.Mode.OUTAGE) {
                        throw outage(msgId);
                    }
                    throw unknownMessage(appId, msgId);
                }
                AsideMessage a = AsideMessage.fromJson(json);
                if (!a.message().appId().equals(appId)) {
                    throw unknownMessage(appId, msgId);
                }
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("msgId", Long.toString(msgId));
                body.put("status", (clock.getAsLong() >= a.message().expiresAtMillis() ? "expired"
                        : a.status().wireName()));
                body.put("regId", a.message().regId());
                body.put("createdAt", a.message().createdAtMillis());
                body.put("expiresAt", a.message().expiresAtMillis());
                return HttpResponse.ok(body);
            });
        });
    }

    private static PushException outage(long msgId) {
        return new PushException(PushError.REDIS_OUTAGE, "message " + msgId + " was accepted before the Redis outage"
                + " (or is unknown): its status is readable once Redis is back", "msgId", 2);
    }

    private Map<String, Object> view(StoredMessage m) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("msgId", Long.toString(m.msgId()));
        body.put("status", m.effectiveStatus(clock.getAsLong()).wireName());
        body.put("regId", m.regId());
        body.put("createdAt", m.createdAtMillis());
        body.put("expiresAt", m.expiresAtMillis());
        if (m.sentAtMillis() > 0) {
            body.put("sentAt", m.sentAtMillis());
        }
        if (m.deliveredAtMillis() > 0) {
            body.put("deliveredAt", m.deliveredAtMillis());
        }
        if (m.requestId() != null) {
            body.put("requestId", m.requestId());
        }
        return body;
    }
}
