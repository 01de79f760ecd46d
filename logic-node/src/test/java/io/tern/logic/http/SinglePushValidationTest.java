package io.tern.logic.http;

import io.tern.logic.callback.CallbackConfig;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.logic.config.LogicConfig;
import io.tern.pipeline.single.SinglePush;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.ApiException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SinglePushValidationTest {
    private final PushApi api = new PushApi(null, null, null, null, null,
            LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true"))),
            new CallbackUrlGuard(CallbackConfig.Targets.defaults(), "test"), System::currentTimeMillis);

    private SinglePush parse(String json) {
        return api.parseSinglePush(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aNotificationWithDefaultsParses() {
        SinglePush p = parse("{\"regId\":\"d1\",\"notification\":{\"title\":\"T\",\"body\":\"B\"}}");
        assertEquals("d1", p.regId());
        assertEquals(PayloadKind.NOTIFICATION, p.kind());
        assertEquals("{\"title\":\"T\",\"body\":\"B\"}", new String(p.payload(), StandardCharsets.UTF_8));
        assertEquals(86_400_000L, p.ttlMillis());
        assertNull(p.requestId());
    }

    @Test
    void dataWithTtlAndRequestIdParses() {
        SinglePush p = parse("{\"regId\":\"d1\",\"data\":{\"k\":1},\"ttlSeconds\":60,\"requestId\":\"r-1\"}");
        assertEquals(PayloadKind.DATA, p.kind());
        assertEquals(60_000L, p.ttlMillis());
        assertEquals("r-1", p.requestId());
    }

    @Test
    void theDataObjectIsThePayloadByteForByte() {
        String data = "{ \"k\" : [1, 2.50, {\"x\":\"\u00e9\\u00e9\\\"}\"}],\n \"n\":null }";
        SinglePush p = parse("{\"data\":" + data + " , \"regId\":\"d1\"}");
        assertEquals(data, new String(p.payload(), StandardCharsets.UTF_8));
    }

    @Test
    void aRepeatedFieldCountsAsItsLastValue() {
        SinglePush p = parse("{\"regId\":\"d1\",\"data\":{\"a\":1},\"data\":{\"b\":2}}");
        assertEquals("{\"b\":2}", new String(p.payload(), StandardCharsets.UTF_8));
        ApiException e = assertThrows(ApiException.class,
                () -> parse("{\"regId\":\"d1\",\"data\":{\"a\":1},\"data\":null}"));
        assertEquals("notification", e.field());
    }

    @ParameterizedTest(name = "{0} -> 400 naming {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"notification\":{\"title\":\"T\",\"body\":\"B\"}}|regId",
            "{\"regId\":\"has space\",\"notification\":{\"title\":\"T\",\"body\":\"B\"}}|regId",
            "{\"regId\":5,\"notification\":{\"title\":\"T\",\"body\":\"B\"}}|regId",
            "{\"regId\":\"d1\"}|notification",
            "{\"regId\":\"d1\",\"notification\":{\"title\":\"T\",\"body\":\"B\"},\"data\":{\"a\":1}}|data",
            "{\"regId\":\"d1\",\"notification\":{\"body\":\"B\"}}|title",
            "{\"regId\":\"d1\",\"notification\":{\"title\":\"T\"}}|body",
            "{\"regId\":\"d1\",\"notification\":\"hi\"}|notification",
            "{\"regId\":\"d1\",\"data\":{}}|data",
            "{\"regId\":\"d1\",\"data\":[1]}|data",
            "{\"regId\":\"d1\",\"data\":{\"a\":1},\"ttlSeconds\":0}|ttlSeconds",
            "{\"regId\":\"d1\",\"data\":{\"a\":1},\"ttlSeconds\":604801}|ttlSeconds",
            // Found by MessageParserFuzzTest: 2^64 + 5 was read as 5 and accepted.
            "{\"regId\":\"d1\",\"data\":{\"a\":1},\"ttlSeconds\":18446744073709551621}|ttlSeconds",
            "{\"regId\":\"d1\",\"data\":{\"a\":1},\"ttlSeconds\":\"60\"}|ttlSeconds",
            "{\"regId\":\"d1\",\"data\":{\"a\":1},\"requestId\":\"\"}|requestId",
            "{\"regId\":\"d1\",\"data\":{\"a\":1},\"requestId\":\"a/b\"}|requestId",
            "{\"regId\":\"d\u00e9\",\"data\":{\"a\":1}}|regId",
            "{\"regId\":\"d1\",\"data\":{ \t }}|data",
            "{\"regId\":\"d1\",\"data\":{\"a\":1}|body",
            "{\"regId\":\"d1\",\"data\":{\"a\":tru}}|body",
            "{\"regId\":\"d1\",\"data\":{\"a\" 1}}|body",
            "[1,2]|body",
            "''|body",
            "not json|body"})
    void badInputIs400NamingTheField(String json, String field) {
        ApiException e = assertThrows(ApiException.class, () -> parse(json));
        assertEquals(400, e.status());
        assertEquals(field, e.field());
    }

    @Test
    void idsAreOneTo128OfTheAllowedCharacters() {
        String longest = "A-z.0_9:".repeat(16);
        assertEquals(longest, parse("{\"regId\":\"" + longest + "\",\"data\":{\"a\":1}}").regId());
        ApiException e = assertThrows(ApiException.class, () -> parse("{\"regId\":\"" + longest + "x\",\"data\":{\"a\":1}}"));
        assertEquals("regId", e.field());
    }
}
