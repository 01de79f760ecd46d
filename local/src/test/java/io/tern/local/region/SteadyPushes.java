package io.tern.local.region;

import io.tern.local.chaos.PushStream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Single pushes to random devices at a steady rate, in the background, from {@link #start} until {@link #stop}:
 * the app server that keeps pushing while regions move. Each push is retried by {@link PushStream} until
 * accepted (same requestId), so {@link #stop} returns every message the platform accepted.
 */
final class SteadyPushes implements AutoCloseable {
    private final PushStream api;
    private final List<String> devices;
    private final Map<String, String> regIds;
    private final int perSecond;
    private final String label;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<CompletableFuture<Optional<PushStream.Accepted>>> sent = new ArrayList<>();
    private final Thread thread;

    private SteadyPushes(PushStream api, List<String> devices, Map<String, String> regIds, int perSecond, String label) {
        this.api = api;
        this.devices = devices;
        this.regIds = regIds;
        this.perSecond = perSecond;
        this.label = label;
        this.thread = new Thread(this::run, "steady-pushes-" + label);
    }

    static SteadyPushes start(PushStream api, List<String> devices, Map<String, String> regIds, int perSecond,
                              String label) {
        SteadyPushes p = new SteadyPushes(api, devices, regIds, perSecond, label);
        p.thread.start();
        return p;
    }

    private void run() {
        SplittableRandom random = new SplittableRandom(label.hashCode());
        long start = System.nanoTime();
        for (long i = 0; running.get(); i++) {
            // Paced on the clock, not on the answers: a slow answer never slows the stream down.
            long at = start + i * 1_000_000_000L / perSecond;
            long left;
            while ((left = at - System.nanoTime()) > 0 && running.get()) {
                LockSupport.parkNanos(Math.min(left, 50_000_000L));
            }
            if (!running.get()) {
                break;
            }
            String device = devices.get(random.nextInt(devices.size()));
            CompletableFuture<Optional<PushStream.Accepted>> f =
                    api.single(device, regIds.get(device), label + "-" + start + "-" + i, label + " " + i);
            synchronized (sent) {
                sent.add(f);
            }
        }
    }

    /** Stops pushing; waits for every push sent to be accepted (or given up) and returns the accepted ones. */
    List<PushStream.Accepted> stop() {
        running.set(false);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        List<CompletableFuture<Optional<PushStream.Accepted>>> all;
        synchronized (sent) {
            all = List.copyOf(sent);
        }
        return all.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList();
    }

    /** Stops pushing (a test that failed half-way); {@link #stop} is the way to collect what was accepted. */
    @Override
    public void close() {
        running.set(false);
    }

    /** Pushes sent so far (accepted or not yet). */
    int sent() {
        synchronized (sent) {
            return sent.size();
        }
    }
}
