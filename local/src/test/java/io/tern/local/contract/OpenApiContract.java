package io.tern.local.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code docs/openapi.yaml} as a contract: swagger-parser checks it is a well-formed OpenAPI 3.1 document, and
 * every real answer is held against it: its operation and status must be documented, the headers the spec marks
 * required present, and the body valid against the response schema (networknt, the OpenAPI 3.1 dialect of JSON
 * Schema 2020-12, {@code $ref}s resolved inside the document). Remembers which documented answers were seen.
 */
final class OpenApiContract {
    /** Where the document is registered for the schema validator; never fetched. */
    private static final String BASE = "https://tern.invalid/openapi.json";
    private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch");

    private final JsonNode doc;
    private final SchemaRegistry schemas;
    private final Set<String> seen = new ConcurrentSkipListSet<>();

    private OpenApiContract(JsonNode doc, SchemaRegistry schemas) {
        this.doc = doc;
        this.schemas = schemas;
    }

    static OpenApiContract load(Path yaml) throws IOException {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult parsed = new OpenAPIV3Parser().readLocation(yaml.toUri().toString(), null, options);
        assertTrue(parsed.getMessages() == null || parsed.getMessages().isEmpty(),
                "docs/openapi.yaml is not a valid OpenAPI document: " + parsed.getMessages());
        assertTrue(parsed.getOpenAPI() != null && parsed.getOpenAPI().getOpenapi().startsWith("3.1."),
                "docs/openapi.yaml must be OpenAPI 3.1");
        JsonNode doc = new YAMLMapper().readTree(Files.readString(yaml));
        String json = new ObjectMapper().writeValueAsString(doc);
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi31(),
                b -> b.schemas(Map.of(BASE, json)));
        return new OpenApiContract(doc, registry);
    }

    /** Holds one real answer against the spec. */
    void check(Http.Answer a) {
        String op = a.method() + " " + a.template();
        JsonNode operation = doc.path("paths").path(a.template()).path(a.method().toLowerCase());
        assertFalse(operation.isMissingNode(), op + " is not in docs/openapi.yaml (" + a + ")");
        String status = Integer.toString(a.status());
        JsonNode response = operation.path("responses").path(status);
        assertFalse(response.isMissingNode(), op + " answered " + status + ", which the spec does not document: " + a);
        String pointer = "/paths/" + escape(a.template()) + "/" + a.method().toLowerCase() + "/responses/" + status;
        if (response.has("$ref")) {
            pointer = response.get("$ref").asText().substring(1);
            response = doc.at(pointer);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = response.path("headers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> h = it.next();
            JsonNode header = h.getValue().has("$ref") ? doc.at(h.getValue().get("$ref").asText().substring(1)) : h.getValue();
            if (header.path("required").asBoolean(false)) {
                assertTrue(a.headers().firstValue(h.getKey()).isPresent(), op + " " + status + " lacks header " + h.getKey());
            }
        }
        JsonNode content = response.path("content");
        if (content.isMissingNode() || content.isEmpty()) {
            assertTrue(a.body().isEmpty(), op + " " + status + " documents no body but sent one: " + a);
        } else {
            String media = null;
            for (Iterator<String> it = content.fieldNames(); it.hasNext(); ) {
                String m = it.next();
                if (a.contentType().startsWith(m)) {
                    media = m;
                }
            }
            if (media == null) {
                fail(op + " " + status + " answered Content-Type '" + a.contentType() + "', the spec has " + content);
            }
            if (media.equals("application/json")) {
                Schema schema = schemas.getSchema(SchemaLocation.of(BASE + "#" + pointer + "/content/"
                        + escape(media) + "/schema"));
                List<Error> errors = schema.validate(a.body(), InputFormat.JSON);
                assertTrue(errors.isEmpty(), op + " " + status + " body does not match the spec: " + errors + " in " + a);
            }
        }
        seen.add(op + " " + status);
    }

    /** Checks {@code a} and that it has {@code status}; for error answers also the code and the field named. */
    Http.Answer expect(Http.Answer a, int status) {
        assertEquals(status, a.status(), a.toString());
        check(a);
        return a;
    }

    /** An answer no operation documents (unknown path or method): still the spec's {@code Error} with {@code code}. */
    void checkError(Http.Answer a, String code) {
        Schema schema = schemas.getSchema(SchemaLocation.of(BASE + "#/components/schemas/Error"));
        List<Error> errors = schema.validate(a.body(), InputFormat.JSON);
        assertTrue(errors.isEmpty(), "not the spec's Error: " + errors + " in " + a);
        assertTrue(a.body().contains("\"code\":\"" + code + "\""), a.toString());
    }

    /** Every documented answer, as "METHOD /path status". */
    Set<String> documented() {
        Set<String> out = new TreeSet<>();
        doc.path("paths").fields().forEachRemaining(p -> {
            for (String m : METHODS) {
                p.getValue().path(m).path("responses").fieldNames()
                        .forEachRemaining(s -> out.add(m.toUpperCase() + " " + p.getKey() + " " + s));
            }
        });
        return out;
    }

    Set<String> seen() {
        return new TreeSet<>(seen);
    }

    private static String escape(String pointerToken) {
        return pointerToken.replace("~", "~0").replace("/", "~1");
    }
}
