package io.tern.devstack.process;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * One Tern role (broker, dispatcher, logic node) as its own OS process, on fixed ports so it can be killed
 * and started again where its peers and devices expect it. Ready = its {@code /health} answers 200.
 *
 * @param ports the role's ports by name ({@code tcp}, {@code ws}, {@code internal}, {@code admin}, {@code http})
 */
public record RoleProcess(String id, JavaProcess process, URI health, Map<String, Integer> ports) {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    public int port(String name) {
        Integer p = ports.get(name);
        if (p == null) {
            throw new IllegalArgumentException(id + " has no port '" + name + "' (has " + ports.keySet() + ")");
        }
        return p;
    }

    public boolean healthy() {
        try {
            return HTTP.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits for /health 200; fails at once if the process exits meanwhile. */
    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!healthy()) {
            if (!process.alive()) {
                throw new IllegalStateException(id + " exited during start; see " + process.spec().logFile());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(id + " not healthy within " + timeout + "; see " + process.spec().logFile());
            }
            JavaProcess.pause(100);
        }
    }

    /** SIGKILL: a crash. */
    public void kill() {
        process.kill();
    }

    /** Starts it again (same id, ports and settings) and waits until healthy. */
    public void restart(Duration timeout) {
        process.restart();
        awaitHealthy(timeout);
    }

    public boolean alive() {
        return process.alive();
    }

    public long pid() {
        return process.pid();
    }
}
