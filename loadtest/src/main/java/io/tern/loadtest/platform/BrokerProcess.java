package io.tern.loadtest.platform;

import io.tern.loadtest.process.ChildProcess;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A broker under test: a child JVM running {@code io.tern.broker.BrokerMain} unchanged (through
 * {@link io.tern.devstack.process.WatchedMain}, which ends it when the runner goes away),
 * configured by {@code TERN_BROKER_*} environment variables, its admin port known to the runner.
 */
public final class BrokerProcess {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private final String id;
    private final ChildProcess process;
    private final int adminPort;

    BrokerProcess(String id, ChildProcess process, int adminPort) {
        this.id = id;
        this.process = process;
        this.adminPort = adminPort;
    }

    public String id() {
        return id;
    }

    public long pid() {
        return process.pid();
    }

    public ChildProcess process() {
        return process;
    }

    public boolean healthy() {
        try {
            return get("/health").statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code tern_broker_connections} from /metrics: authenticated device connections; -1 when unreadable. */
    public int connections() {
        return (int) metric("tern_broker_connections");
    }

    /** The value of the first sample of {@code name} on /metrics, or -1. */
    public double metric(String name) {
        try {
            HttpResponse<String> r = get(metricsOf(name));
            for (String line : r.body().split("\n")) {
                if (line.startsWith(name) && (line.length() > name.length())
                        && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ')) {
                    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Sum of every sample of {@code name} on /metrics (all tag combinations), or -1. */
    public double metricSum(String name) {
        try {
            HttpResponse<String> r = get(metricsOf(name));
            double sum = 0;
            boolean found = false;
            for (String line : r.body().split("\n")) {
                if (line.startsWith(name) && (line.length() > name.length())
                        && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ')) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    found = true;
                }
            }
            return found ? sum : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * /metrics filtered to {@code name}'s family: the broker then renders one gauge, not every histogram, on each
     * sample (a full render is most of an idle broker's CPU at one a second). A broker without the filter ignores it.
     */
    private static String metricsOf(String name) {
        String family = name.endsWith("_total") ? name.substring(0, name.length() - "_total".length()) : name;
        return "/metrics?name%5B%5D=" + family;
    }

    private HttpResponse<String> get(String path) throws IOException {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
