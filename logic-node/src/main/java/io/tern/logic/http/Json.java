package io.tern.logic.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpServer;

import java.io.IOException;

/** Request-body reading with errors that name the field at fault. */
final class Json {

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
        if (!isId(v)) {
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

    /** {@code [A-Za-z0-9._:-]{1,128}}, checked without a regex: every push has one or two ids. */
    static boolean isId(String v) {
        int n = v.length();
        if (n < 1 || n > 128) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = v.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == ':' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
