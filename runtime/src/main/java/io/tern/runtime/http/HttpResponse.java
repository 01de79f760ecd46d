package io.tern.runtime.http;

import java.util.Map;

/** A response: a status and a body that is JSON-serialised, or sent as text when it is a String. */
public record HttpResponse(int status, Object body, String contentType, Map<String, String> headers) {

    public static HttpResponse json(int status, Object body) {
        return new HttpResponse(status, body, "application/json", Map.of());
    }

    public static HttpResponse ok(Object body) {
        return json(200, body);
    }

    public static HttpResponse text(int status, String body, String contentType) {
        return new HttpResponse(status, body, contentType, Map.of());
    }
}
