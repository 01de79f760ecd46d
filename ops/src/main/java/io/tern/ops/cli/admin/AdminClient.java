package io.tern.ops.cli.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A role's SRE admin API as the CLI calls it (the global scheduler's, the rate controller's): every request
 * carries the SRE token; a 2xx answer is returned as JSON, anything else becomes an {@link ApiError} with the
 * API's code, message and field.
 */
public final class AdminClient {
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
    private final URI base;
    private final String token;

    /** An answer: its JSON, and the body as received (what {@code --output json} prints). */
    public record Answer(int status, JsonNode json, String raw) {
    }

    public AdminClient(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    public URI base() {
        return base;
    }

    public Answer get(String path) throws ApiError, IOException, InterruptedException {
        return send(request(path).GET().build());
    }

    /** POST {@code body}; {@code ifMatch} (a policy version) becomes the {@code If-Match} header when not null. */
    public Answer post(String path, ObjectNode body, Long ifMatch) throws ApiError, IOException, InterruptedException {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (ifMatch != null) {
            b.header("If-Match", Long.toString(ifMatch));
        }
        return send(b.build());
    }

    /** PUT {@code body}. */
    public Answer put(String path, ObjectNode body) throws ApiError, IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body.toString())).build());
    }

    public Answer delete(String path) throws ApiError, IOException, InterruptedException {
        return send(request(path).DELETE().build());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
    }

    private Answer send(HttpRequest request) throws ApiError, IOException, InterruptedException {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        String raw = response.body();
        JsonNode json = parse(raw);
        if (response.statusCode() / 100 == 2) {
            return new Answer(response.statusCode(), json, raw);
        }
        String message = json.path("message").asText(null);
        if (message == null) {
            // Not the API's error shape (e.g. a proxy's page): show the start of what came back.
            message = "HTTP " + response.statusCode() + (raw.isBlank() ? "" : ": " + abbreviate(raw.strip()));
        }
        // The API's errors are {"code","message","field"?}; "error" is accepted too for other front ends.
        String code = json.hasNonNull("code") ? json.get("code").asText() : json.path("error").asText(null);
        throw new ApiError(response.statusCode(), code, message,
                json.path("field").asText(null), raw);
    }

    private static JsonNode parse(String raw) {
        if (raw == null || raw.isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            return JSON.createObjectNode();
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
