package io.tern.logic.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.tern.logic.callback.CallbackConfig;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.runtime.http.ApiException;

import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Push request bodies as the API reads them (JSON object, message part, callback URL): any bytes
 * end in a parsed message that keeps every documented limit, or in a 400 {@link ApiException}
 * naming a field; never another exception.
 * Regression inputs: src/test/resources/io/tern/logic/http/MessageParserFuzzTestInputs/.
 */
class MessageParserFuzzTest {
    private static final Duration MAX_TTL = Duration.ofDays(3);
    private static final MessageParser PARSER = new MessageParser(Duration.ofDays(1), MAX_TTL,
            new CallbackUrlGuard(CallbackConfig.Targets.defaults(), "fuzz"));

    @FuzzTest(maxDuration = "15m", maxExecutions = 1_000_000)
    void anyBodyParsesWithinLimitsOrIsA400NamingTheField(byte[] input) {
        JsonNode body;
        MessageParser.ParsedMessage m;
        try {
            body = Json.object(input);
            Json.requiredId(body, "regId");
            Json.optionalId(body, "requestId");
            m = PARSER.parse(body);
        } catch (ApiException e) {
            assertEquals(400, e.status(), e.toString());
            assertNotNull(e.field(), "a 400 names the field: " + e.getMessage());
            return;
        }
        assertTrue(m.ttlMillis() >= 1000 && m.ttlMillis() <= MAX_TTL.toMillis(), "ttl " + m.ttlMillis());
        JsonNode ttl = body.get("ttlSeconds");
        if (ttl != null && !ttl.isNull()) {
            // The accepted ttl is the one sent, not a truncation of a bigger number.
            assertEquals(ttl.bigIntegerValue().multiply(BigInteger.valueOf(1000)), BigInteger.valueOf(m.ttlMillis()));
        }
        if (m.callbackUrl() != null) {
            assertTrue(m.callbackUrl().length() <= MessageParser.MAX_CALLBACK_URL);
            URI u = URI.create(m.callbackUrl());
            assertTrue(("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null,
                    m.callbackUrl());
            assertTrue(m.callbackParam().length() <= MessageParser.MAX_CALLBACK_PARAM);
        }
        assertNotNull(m.payloadJson());
    }
}
