package io.tern.logic.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpServer;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
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

    /** {@code payload}: the payload's JSON, UTF-8. */
    record ParsedMessage(PayloadKind kind, byte[] payload, long ttlMillis, String callbackUrl,
                         String callbackParam) {
    }

    /**
     * A body as {@link #read} leaves it: {@code data} holds the bytes of a non-empty {@code data} object (null when
     * there is none: then {@code fields} may hold the {@code data} that was sent instead), {@code fields} the rest.
     */
    record Body(ObjectNode fields, byte[] data) {
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

    /**
     * Reads a push body in one pass: every top-level field as a tree, except a non-empty {@code data} object,
     * whose bytes are kept as sent (no tree, no re-encoding: it is the payload). Only the syntax is checked here
     * (400 {@code body}); {@link #parse} then checks the message part, the caller its own fields.
     */
    static Body read(byte[] body) {
        ObjectNode fields = HttpServer.JSON.createObjectNode();
        byte[] data = null;
        try (JsonParser p = HttpServer.JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw ApiException.badRequest("body", "body must be a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() == JsonToken.START_OBJECT && "data".equals(name)) {
                    int start = (int) p.currentTokenLocation().getByteOffset();
                    p.skipChildren(); // still checks the syntax (and the UTF-8) of all it skips
                    int end = (int) p.currentLocation().getByteOffset();
                    if (isEmptyObject(body, start, end)) {
                        fields.set(name, HttpServer.JSON.createObjectNode());
                        data = null;
                    } else {
                        fields.remove(name); // a repeated field: the last one counts, as in a tree
                        data = Arrays.copyOfRange(body, start, end);
                    }
                } else {
                    fields.set(name, value(p));
                    if ("data".equals(name)) {
                        data = null;
                    }
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw ApiException.badRequest("body", "body is not valid JSON");
            }
        } catch (IOException e) {
            throw ApiException.badRequest("body", "body is not valid JSON");
        }
        return new Body(fields, data);
    }

    /**
     * The current value as a tree node. Strings, integers and null, the ids and numbers of every push, are made
     * here: a tree reading sets up a deserialisation context per call.
     */
    private static JsonNode value(JsonParser p) throws IOException {
        JsonNodeFactory nodes = HttpServer.JSON.getNodeFactory();
        return switch (p.currentToken()) {
            case VALUE_STRING -> nodes.textNode(p.getText());
            case VALUE_NULL -> nodes.nullNode();
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> nodes.numberNode(p.getIntValue());
                case LONG -> nodes.numberNode(p.getLongValue());
                default -> nodes.numberNode(p.getBigIntegerValue());
            };
            default -> p.readValueAsTree();
        };
    }

    /** {@code body[start, end)} is {@code {}} with only whitespace inside (a parsed object's span). */
    private static boolean isEmptyObject(byte[] body, int start, int end) {
        if (body[start] != '{' || body[end - 1] != '}') {
            throw new IllegalStateException("the data object's span is off: " + start + ".." + end);
        }
        for (int i = start + 1; i < end - 1; i++) {
            byte b = body[i];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /** The message part of a body {@link #read} left; errors (400) name the field. */
    ParsedMessage parse(Body body) {
        JsonNode notification = body.fields().get("notification");
        JsonNode data = body.fields().get("data");
        boolean hasNotification = notification != null && !notification.isNull();
        boolean hasData = body.data() != null || (data != null && !data.isNull());
        if (hasNotification == hasData) {
            throw ApiException.badRequest(hasData ? "data" : "notification", "give exactly one of notification or data");
        }
        PayloadKind kind;
        byte[] payload;
        if (hasNotification) {
            if (!notification.isObject()) {
                throw ApiException.badRequest("notification", "notification must be an object");
            }
            ObjectNode n = HttpServer.JSON.createObjectNode()
                    .put("title", Json.requiredString(notification, "title"))
                    .put("body", Json.requiredString(notification, "body"));
            try {
                payload = HttpServer.JSON.writeValueAsBytes(n);
            } catch (JsonProcessingException e) {
                throw ApiException.badRequest("notification", "payload cannot be serialised");
            }
            kind = PayloadKind.NOTIFICATION;
        } else {
            if (body.data() == null) {
                throw ApiException.badRequest("data", "data must be a non-empty object");
            }
            payload = body.data();
            kind = PayloadKind.DATA;
        }
        JsonNode fields = body.fields();
        long ttlMillis = defaultTtl.toMillis();
        JsonNode ttl = fields.get("ttlSeconds");
        if (ttl != null && !ttl.isNull()) {
            if (!ttl.isIntegralNumber() || !ttl.canConvertToLong() || ttl.asLong() < 1 || ttl.asLong() > maxTtl.toSeconds()) {
                throw ApiException.badRequest("ttlSeconds", "ttlSeconds must be an integer in [1, " + maxTtl.toSeconds() + "]");
            }
            ttlMillis = Duration.ofSeconds(ttl.asLong()).toMillis();
        }
        String callbackUrl = null;
        String callbackParam = null;
        JsonNode callback = fields.get("callback");
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
        return new ParsedMessage(kind, payload, ttlMillis, callbackUrl, callbackParam);
    }
}
