package io.tern.loadtest.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.process.ChildIo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * The global scheduler's admin API as an SRE calls it ({@code Authorization: Bearer <SRE token>}):
 * list regions, start a failover or failback, read a move's progress. Any scheduler instance
 * answers; a call that finds one down tries the next.
 */
public final class SchedulerApi {
    /** A non-2xx answer. */
    public static final class ApiError extends RuntimeException {
        public final int status;

        ApiError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final List<URI> schedulers;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    public SchedulerApi(List<URI> schedulers, String token) {
        if (schedulers.isEmpty()) {
            throw new IllegalArgumentException("no scheduler");
        }
        this.schedulers = List.copyOf(schedulers);
        this.token = token;
    }

    /** {@code GET /v1/regions}: {"version", "regions": [{name, state, servedBy, brokers, connections, move?}]}. */
    public JsonNode regions() {
        return call("GET", "/v1/regions", null);
    }

    /** The state of {@code region} in {@code GET /v1/regions}, or null when it is not listed. */
    public String state(String region) {
        for (JsonNode r : regions().path("regions")) {
            if (r.path("name").asText().equals(region)) {
                return r.path("state").asText();
            }
        }
        return null;
    }

    /** {@code POST /v1/regions/{from}/failover}; returns the policy version of the 202. */
    public long failover(String from, String to, int ratePerSecond, String reason) {
        ObjectNode body = ChildIo.JSON.createObjectNode().put("to", to).put("ratePerSecond", ratePerSecond)
                .put("reason", reason);
        return call("POST", "/v1/regions/" + from + "/failover", body).path("version").asLong();
    }

    /** {@code POST /v1/regions/{region}/failback}; returns the policy version of the 202. */
    public long failback(String region, int ratePerSecond, String reason) {
        ObjectNode body = ChildIo.JSON.createObjectNode().put("ratePerSecond", ratePerSecond).put("reason", reason);
        return call("POST", "/v1/regions/" + region + "/failback", body).path("version").asLong();
    }

    /** {@code GET /v1/regions/{region}/move}: the move's progress, or null when none is under way (404). */
    public JsonNode move(String region) {
        try {
            return call("GET", "/v1/regions/" + region + "/move", null);
        } catch (ApiError e) {
            if (e.status == 404) {
                return null;
            }
            throw e;
        }
    }

    private JsonNode call(String method, String path, JsonNode body) {
        IOException last = null;
        for (URI base : schedulers) {
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
                    .header("Authorization", "Bearer " + token).header("Accept", "application/json");
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
            }
            HttpResponse<String> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                last = e;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            if (r.statusCode() == 503) {
                last = new IOException(base + " answered 503: " + r.body());
                continue;
            }
            if (r.statusCode() / 100 != 2) {
                throw new ApiError(r.statusCode(), method + " " + path + " -> " + r.statusCode() + " " + r.body());
            }
            try {
                return r.body().isBlank() ? ChildIo.JSON.createObjectNode() : ChildIo.JSON.readTree(r.body());
            } catch (IOException e) {
                throw new IllegalStateException(method + " " + path + ": not JSON: " + r.body(), e);
            }
        }
        throw new IllegalStateException("no scheduler answered " + method + " " + path + ": " + last);
    }
}
