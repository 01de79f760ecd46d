package io.tern.local.region;

import io.tern.devstack.process.RoleProcess;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalDouble;

/**
 * Reads one meter of a role process from its {@code GET /metrics} (Prometheus text): the sum of every series of
 * that name whose labels contain all of the given {@code key="value"} pairs. Empty when the process does not
 * answer (killed) or has no such series.
 */
final class BrokerMetrics {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    private BrokerMetrics() {
    }

    /** Live device sessions on broker {@code b}. */
    static OptionalDouble sessions(RoleProcess b) {
        return read(b, "tern_broker_connections");
    }

    /** CONNACKs the broker has written since it started, on its TCP listener: sessions it admitted. */
    static OptionalDouble connAcks(RoleProcess b) {
        return read(b, "tern_broker_frames_out_total", "type=\"connack\"", "listener=\"tcp\"");
    }

    static OptionalDouble read(RoleProcess role, String name, String... labels) {
        String text = scrape(role);
        return text == null ? OptionalDouble.empty() : sum(text, name, labels);
    }

    /** The non-zero series of {@code names} as {@code name{labels} value} lines (for a failure message). */
    static String series(RoleProcess role, String... names) {
        String text = scrape(role);
        if (text == null) {
            return role.id() + ": no answer";
        }
        StringBuilder out = new StringBuilder(role.id()).append(':');
        for (String line : text.split("\n")) {
            for (String name : names) {
                if (line.startsWith(name + "{") && !line.endsWith(" 0.0")) {
                    out.append(' ').append(line.replaceAll("(role|instance)=\"[^\"]*\",?", ""));
                }
            }
        }
        return out.toString();
    }

    private static String scrape(RoleProcess role) {
        URI metrics = role.health().resolve("/metrics");
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static OptionalDouble sum(String text, String name, String... labels) {
        double sum = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            int close = line.lastIndexOf('}');
            String labelPart = close < 0 ? "" : line.substring(name.length(), close + 1);
            boolean all = true;
            for (String l : labels) {
                all &= labelPart.contains(l);
            }
            if (!all) {
                continue;
            }
            String value = line.substring(close < 0 ? name.length() : close + 1).trim().split(" ")[0];
            sum += Double.parseDouble(value);
            found = true;
        }
        return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
    }
}
