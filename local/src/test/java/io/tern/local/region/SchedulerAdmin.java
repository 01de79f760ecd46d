package io.tern.local.region;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * The global scheduler's admin API as an SRE calls it: every request with {@code Authorization: Bearer <token>}.
 * One instance talks to one scheduler process; an unreachable one answers {@link Optional#empty()} (it may be
 * the one a test killed).
 */
final class SchedulerAdmin {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    /** One answer: status and parsed body (null when the body is not JSON). */
    record Answer(int status, JsonNode body, String raw) {
    }

    private final URI base;
    private final String token;

    SchedulerAdmin(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    URI base() {
        return base;
    }

    /** {@code GET /v1/regions}. */
    Optional<Answer> regions() {
        return call("GET", "/v1/regions", null);
    }

    /** {@code GET /v1/regions/{name}/move}. */
    Optional<Answer> move(String region) {
        return call("GET", "/v1/regions/" + region + "/move", null);
    }

    /** {@code POST /v1/regions/{name}/failover}. */
    Optional<Answer> failover(String region, String to, int ratePerSecond, String reason) {
        String body = JSON.createObjectNode().put("to", to).put("ratePerSecond", ratePerSecond).put("reason", reason)
                .toString();
        return call("POST", "/v1/regions/" + region + "/failover", body);
    }

    /** {@code POST /v1/regions/{name}/failback}. */
    Optional<Answer> failback(String region, int ratePerSecond, String reason) {
        String body = JSON.createObjectNode().put("ratePerSecond", ratePerSecond).put("reason", reason).toString();
        return call("POST", "/v1/regions/" + region + "/failback", body);
    }

    /** The region's entry of {@code GET /v1/regions}, when this scheduler answers 200. */
    Optional<JsonNode> region(String name) {
        return regions().filter(a -> a.status() == 200 && a.body() != null).flatMap(a -> {
            for (JsonNode r : a.body().path("regions")) {
                if (name.equals(r.path("name").asText())) {
                    return Optional.of(r);
                }
            }
            return Optional.empty();
        });
    }

    /** The region's state ({@code active}, {@code failing-over}, ..), when this scheduler answers. */
    Optional<String> state(String region) {
        return region(region).map(r -> r.path("state").asText());
    }

    /** The region's {@code connections} as the scheduler counts them, when it answers. */
    Optional<Long> connections(String region) {
        return region(region).map(r -> r.path("connections").asLong(-1));
    }

    Optional<Answer> call(String method, String path, String body) {
        return call(method, path, body, token);
    }

    Optional<Answer> call(String method, String path, String body, String bearer) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5))
                .header("Accept", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json;
            try {
                json = r.body().isBlank() ? null : JSON.readTree(r.body());
            } catch (IOException e) {
                json = null;
            }
            return Optional.of(new Answer(r.statusCode(), json, r.body()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
