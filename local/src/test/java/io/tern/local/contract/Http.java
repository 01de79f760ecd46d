package io.tern.local.contract;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** Plain HTTP calls to a role, answered with everything a contract check needs. */
final class Http {
    /** One real answer: what was asked ({@code template} names the documented path) and what came back. */
    record Answer(String method, String template, String path, int status, HttpHeaders headers, String body) {
        String contentType() {
            return headers.firstValue("Content-Type").orElse("");
        }

        @Override
        public String toString() {
            return method + " " + path + " -> " + status + " " + body;
        }
    }

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Http() {
    }

    /**
     * @param template the path as the spec names it ({@code /v1/tasks/{taskId}})
     * @param path     the concrete path and query sent
     * @param body     JSON or null
     */
    static Answer call(InetSocketAddress role, String method, String template, String path, Map<String, String> headers,
                       String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + role.getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        headers.forEach(b::header);
        try {
            HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(method, template, path, r.statusCode(), r.headers(), r.body());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(method + " " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
