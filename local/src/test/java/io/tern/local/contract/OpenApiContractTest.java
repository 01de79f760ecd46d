package io.tern.local.contract;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpHeaders;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract checker itself, on the real docs/openapi.yaml: it must refuse what the spec does not allow. */
class OpenApiContractTest {
    private static OpenApiContract spec;

    @BeforeAll
    static void load() throws Exception {
        spec = OpenApiContract.load(Path.of("").toAbsolutePath().getParent().resolve("docs/openapi.yaml"));
    }

    private static Http.Answer answer(String method, String template, int status, String body, Map<String, List<String>> headers) {
        return new Http.Answer(method, template, template, status, HttpHeaders.of(headers, (k, v) -> true), body);
    }

    private static Http.Answer json(String method, String template, int status, String body) {
        return answer(method, template, status, body, Map.of("Content-Type", List.of("application/json")));
    }

    @Test
    void aDocumentedAnswerPasses() {
        spec.check(json("POST", "/v1/push/single", 200, "{\"msgId\":\"123\",\"status\":\"sent\"}"));
        spec.check(json("POST", "/v1/push/single", 400, "{\"code\":\"invalid_field\",\"message\":\"m\",\"field\":\"regId\"}"));
        assertTrue(spec.seen().contains("POST /v1/push/single 400"));
    }

    @Test
    void aBodyAgainstItsSchemaFails() {
        // msgId as a number, an unknown status, an extra property: each breaks the schema.
        assertThrows(AssertionError.class, () -> spec.check(json("POST", "/v1/push/single", 200, "{\"msgId\":123,\"status\":\"sent\"}")));
        assertThrows(AssertionError.class, () -> spec.check(json("POST", "/v1/push/single", 200, "{\"msgId\":\"1\",\"status\":\"lost\"}")));
        assertThrows(AssertionError.class, () -> spec.check(json("GET", "/v1/tasks/{taskId}", 404,
                "{\"code\":\"unknown_task\",\"message\":\"m\",\"extra\":1}")));
    }

    @Test
    void aBadRequestThatNamesNoFieldFails() {
        assertThrows(AssertionError.class, () -> spec.check(json("POST", "/v1/auth", 400, "{\"code\":\"invalid_field\",\"message\":\"m\"}")));
    }

    @Test
    void anUndocumentedStatusOrOperationFails() {
        assertThrows(AssertionError.class, () -> spec.check(json("GET", "/v1/tasks/{taskId}", 418, "{}")));
        assertThrows(AssertionError.class, () -> spec.check(json("PATCH", "/v1/tasks/{taskId}", 200, "{}")));
    }

    @Test
    void aRequiredHeaderMissingFails() {
        assertThrows(AssertionError.class, () -> spec.check(json("POST", "/v1/push/single", 429,
                "{\"code\":\"rate_limited\",\"message\":\"m\"}")));
        spec.check(answer("POST", "/v1/push/single", 429, "{\"code\":\"rate_limited\",\"message\":\"m\"}",
                Map.of("Content-Type", List.of("application/json"), "Retry-After", List.of("1"))));
    }
}
