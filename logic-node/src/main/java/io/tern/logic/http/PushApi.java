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
        SinglePush push = parseSinglePush(Json.object(req.body()));
        return messageParser.admitCallback(push.callbackUrl()).thenCompose(x -> limits.admit(appId, 1))
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

    SinglePush parseSinglePush(JsonNode body) {
        String regId = Json.requiredId(body, "regId");
        MessageParser.ParsedMessage m = messageParser.parse(body);
        return new SinglePush(regId, m.kind(), m.payloadJson(), m.ttlMillis(), Json.optionalId(body, "requestId"),
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
        return messages.find(msgId).thenApply(m -> {
            if (m == null || !m.appId().equals(appId)) {
                throw new ApiException(404, "unknown_message", "no message " + msgId + " for app " + appId, "msgId");
            }
            return HttpResponse.ok(view(m));
        });
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
