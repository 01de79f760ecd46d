package io.tern.logic.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpServer;

import java.io.IOException;
import java.util.regex.Pattern;

/** Request-body reading with errors that name the field at fault. */
final class Json {
    static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private Json() {
    }

    static JsonNode object(byte[] body) {
        JsonNode n;
        try {
            n = HttpServer.JSON.readTree(body);
        } catch (IOException e) {
            throw ApiException.badRequest("body", "body is not valid JSON");
        }
        if (n == null || !n.isObject()) {
            throw ApiException.badRequest("body", "body must be a JSON object");
        }
        return n;
    }

    static String requiredString(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            throw ApiException.badRequest(field, field + " is required");
        }
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw ApiException.badRequest(field, field + " must be a non-empty string");
        }
        return v.asText();
    }

    static String requiredId(JsonNode o, String field) {
        String v = requiredString(o, field);
        if (!ID.matcher(v).matches()) {
            throw ApiException.badRequest(field, field + " must be 1-128 characters of A-Z a-z 0-9 . _ : -");
        }
        return v;
    }

    static String optionalId(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : requiredId(o, field);
    }

    static long requiredLong(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            throw ApiException.badRequest(field, field + " is required");
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badRequest(field, field + " must be an integer");
        }
        return v.asLong();
    }
}
