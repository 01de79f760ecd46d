package io.tern.loadtest.api;

import java.util.List;

/**
 * What the single-push generator process does; the runner passes it as JSON in the first argument.
 *
 * @param host        logic node host
 * @param port        logic node port
 * @param authToken   from {@code POST /v1/auth}
 * @param rate        pushes per second (open loop: each has an intended send time)
 * @param seconds     how long to send
 * @param connections persistent HTTP/1.1 connections, one request in flight on each
 * @param targets     the devices pushed to, uniformly at random
 * @param ttlSeconds  message TTL
 * @param maxBacklog  pushes waiting for a free connection beyond which new ones are dropped (counted)
 * @param drainSeconds after sending, how long to wait for outstanding answers
 */
public record SinglePushConfig(String host, int port, String authToken, int rate, int seconds, int connections,
                               List<Target> targets, int ttlSeconds, int maxBacklog, int drainSeconds) {
    /** Devices {@code prefix + 0 … prefix + (count-1)}. */
    public record Target(String prefix, int count) {
    }

    public SinglePushConfig {
        if (rate < 1 || seconds < 1 || connections < 1 || targets == null || targets.isEmpty() || maxBacklog < 1) {
            throw new IllegalArgumentException("rate, seconds, connections, maxBacklog >= 1 and some targets");
        }
        targets = List.copyOf(targets);
    }
}
