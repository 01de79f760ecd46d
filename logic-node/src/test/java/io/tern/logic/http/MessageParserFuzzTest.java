package io.tern.logic.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.tern.logic.callback.CallbackConfig;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpServer;

import java.io.IOException;
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
    void anyBodyParsesWithinLimitsOrIsA400NamingTheField(byte[] input) throws IOException {
        MessageParser.Body read;
        MessageParser.ParsedMessage m;
        try {
            read = MessageParser.read(input);
            Json.requiredId(read.fields(), "regId");
            Json.optionalId(read.fields(), "requestId");
            m = PARSER.parse(read);
        } catch (ApiException e) {
            assertEquals(400, e.status(), e.toString());
            assertNotNull(e.field(), "a 400 names the field: " + e.getMessage());
            return;
        }
        // What was accepted is what a tree reading of the same bytes sees.
        JsonNode body = Json.object(input);
        JsonNode data = body.get("data");
        if (m.kind() == PayloadKind.DATA) {
            assertEquals(data, HttpServer.JSON.readTree(m.payload()));
        } else {
            assertTrue(data == null || data.isNull(), "a notification with data");
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
            // Schemes are case-insensitive (RFC 3986): the guard accepts httpS, and so do the HTTP clients.
            assertTrue(("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme()))
                            && u.getHost() != null,
                    m.callbackUrl());
            assertTrue(m.callbackParam().length() <= MessageParser.MAX_CALLBACK_PARAM);
        }
    }
}
