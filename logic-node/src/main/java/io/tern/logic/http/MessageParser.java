package io.tern.logic.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpServer;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;

/**
 * The message part shared by single pushes and task payloads: exactly one of
 * {@code notification {title, body}} or {@code data {...}}, optional {@code ttlSeconds} and
 * optional {@code callback {url, param}}. Errors name the field. {@link #parse} checks what needs no DNS;
 * {@link #admitCallback} then checks where the callback URL's host resolves, off the event loop.
 */
final class MessageParser {
    static final int MAX_CALLBACK_URL = 512;
    static final int MAX_CALLBACK_PARAM = 256;

    record ParsedMessage(PayloadKind kind, String payloadJson, long ttlMillis, String callbackUrl,
                         String callbackParam) {
    }

    private final Duration defaultTtl;
    private final Duration maxTtl;
    private final CallbackUrlGuard callbackGuard;

    MessageParser(Duration defaultTtl, Duration maxTtl, CallbackUrlGuard callbackGuard) {
        this.defaultTtl = defaultTtl;
        this.maxTtl = maxTtl;
        this.callbackGuard = callbackGuard;
    }

    /**
     * Completes once {@code callbackUrl} (null: none) is known to lead to an allowed address; fails with
     * 400 {@code callback.url} when it leads inside, or 429 when the resolver is saturated.
     */
    CompletableFuture<Void> admitCallback(String callbackUrl) {
        if (callbackUrl == null) {
            return CompletableFuture.completedFuture(null);
        }
        return callbackGuard.check(callbackUrl).handle((uri, err) -> {
            if (err == null) {
                return null;
            }
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            if (cause instanceof CallbackUrlGuard.RefusedException refused) {
                throw ApiException.badRequest("callback.url", refused.getMessage());
            }
            if (cause instanceof RejectedExecutionException) {
                throw ApiException.tooManyRequests("overloaded", "too many callback URLs being checked; retry after 1 s", 1);
            }
            throw err instanceof CompletionException ce ? ce : new CompletionException(err);
        });
    }

    ParsedMessage parse(JsonNode body) {
        JsonNode notification = body.get("notification");
        JsonNode data = body.get("data");
        boolean hasNotification = notification != null && !notification.isNull();
        boolean hasData = data != null && !data.isNull();
        if (hasNotification == hasData) {
            throw ApiException.badRequest(hasData ? "data" : "notification", "give exactly one of notification or data");
        }
        PayloadKind kind;
        ObjectNode payload;
        if (hasNotification) {
            if (!notification.isObject()) {
                throw ApiException.badRequest("notification", "notification must be an object");
            }
            payload = HttpServer.JSON.createObjectNode()
                    .put("title", Json.requiredString(notification, "title"))
                    .put("body", Json.requiredString(notification, "body"));
            kind = PayloadKind.NOTIFICATION;
        } else {
            if (!data.isObject() || data.isEmpty()) {
                throw ApiException.badRequest("data", "data must be a non-empty object");
            }
            payload = (ObjectNode) data;
            kind = PayloadKind.DATA;
        }
        long ttlMillis = defaultTtl.toMillis();
        JsonNode ttl = body.get("ttlSeconds");
        if (ttl != null && !ttl.isNull()) {
            if (!ttl.isIntegralNumber() || !ttl.canConvertToLong() || ttl.asLong() < 1 || ttl.asLong() > maxTtl.toSeconds()) {
                throw ApiException.badRequest("ttlSeconds", "ttlSeconds must be an integer in [1, " + maxTtl.toSeconds() + "]");
            }
            ttlMillis = Duration.ofSeconds(ttl.asLong()).toMillis();
        }
        String callbackUrl = null;
        String callbackParam = null;
        JsonNode callback = body.get("callback");
        if (callback != null && !callback.isNull()) {
            if (!callback.isObject()) {
                throw ApiException.badRequest("callback", "callback must be an object {url, param}");
            }
            callbackUrl = callback.path("url").asText("");
            if (callbackUrl.length() > MAX_CALLBACK_URL) {
                throw ApiException.badRequest("callback.url", "callback.url is over " + MAX_CALLBACK_URL + " characters");
            }
            try {
                CallbackUrlGuard.parse(callbackUrl);
            } catch (CallbackUrlGuard.RefusedException e) {
                throw ApiException.badRequest("callback.url", e.getMessage());
            }
            JsonNode param = callback.get("param");
            callbackParam = param == null || param.isNull() ? "" : param.asText();
            if (callbackParam.length() > MAX_CALLBACK_PARAM) {
                throw ApiException.badRequest("callback.param", "callback.param is over " + MAX_CALLBACK_PARAM + " characters");
            }
        }
        try {
            return new ParsedMessage(kind, HttpServer.JSON.writeValueAsString(payload), ttlMillis, callbackUrl, callbackParam);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(hasData ? "data" : "notification", "payload cannot be serialised");
        }
    }
}
