package io.tern.dispatcher.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.dispatcher.identity.DeviceIdentity;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.http.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/register {"appId","clientKey"}} → {@code {"regId","deviceSecret"}}: a new device of the
 * app, once per installation. Runs on the HTTP event loop: a key comparison, random bytes and one HMAC.
 */
public final class RegisterHandler implements Route.Handler {
    private static final Logger log = LoggerFactory.getLogger(RegisterHandler.class);
    public static final String PATH = "/v1/register";
    // The answer carries a secret: no cache may keep it.
    private static final Map<String, String> NO_STORE = Map.of("Cache-Control", "no-store");

    private final DeviceIdentity identity;
    private final String prefix;
    private final Map<DispatchOutcome, Counter> outcomes = new EnumMap<>(DispatchOutcome.class);

    public RegisterHandler(DeviceIdentity identity, MeterRegistry registry, String instanceId) {
        this.identity = identity;
        this.prefix = "dispatcher " + instanceId;
        for (DispatchOutcome o : new DispatchOutcome[]{DispatchOutcome.OK, DispatchOutcome.INVALID_FIELD,
                DispatchOutcome.UNAUTHORIZED}) {
            outcomes.put(o, Counter.builder("dispatcher.registrations")
                    .description("Device registrations by outcome")
                    .tag("outcome", o.code())
                    .register(registry));
        }
    }

    @Override
    public CompletableFuture<HttpResponse> handle(HttpRequest request) {
        try {
            return CompletableFuture.completedFuture(register(request));
        } catch (ApiException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** @throws ApiException 400 {@code invalid_field} or 401 {@code unauthorized} */
    public HttpResponse register(HttpRequest request) {
        JsonNode body;
        try {
            body = request.body() == null || request.body().length == 0 ? null : HttpServer.JSON.readTree(request.body());
        } catch (IOException e) {
            body = null;
        }
        if (body == null || !body.isObject()) {
            throw fail(DispatchOutcome.INVALID_FIELD, "body must be a JSON object {\"appId\",\"clientKey\"}", "body");
        }
        String appId = requiredText(body, "appId");
        if (!DispatchHandler.ID.matcher(appId).matches()) {
            throw fail(DispatchOutcome.INVALID_FIELD, "appId must match " + DispatchHandler.ID.pattern(), "appId");
        }
        String clientKey = requiredText(body, "clientKey");
        if (!identity.clientKeyValid(appId, clientKey)) {
            throw fail(DispatchOutcome.UNAUTHORIZED, "unknown appId or wrong clientKey", null);
        }
        DeviceIdentity.Issued issued = identity.issue(appId);
        outcomes.get(DispatchOutcome.OK).increment();
        log.debug("[{} app={} reg={}] registered", prefix, appId, issued.regId());
        return new HttpResponse(200, Map.of("regId", issued.regId(), "deviceSecret", issued.deviceSecret()),
                "application/json", NO_STORE);
    }

    private String requiredText(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || !n.isTextual() || n.asText().isEmpty()) {
            throw fail(DispatchOutcome.INVALID_FIELD, field + " is required and must be a non-empty string", field);
        }
        return n.asText();
    }

    private ApiException fail(DispatchOutcome outcome, String message, String field) {
        outcomes.get(outcome).increment();
        return new ApiException(outcome.status(), outcome.code(), message, field);
    }
}
