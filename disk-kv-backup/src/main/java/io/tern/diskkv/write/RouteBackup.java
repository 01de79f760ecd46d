package io.tern.diskkv.write;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.diskkv.lag.BackupLag;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.route.RouteChange;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Applies a batch of {@code tern.routes} records ({@link RouteChange}) to the disk KV: a connect sets the device's
 * route, a disconnect removes it only if it is still the route that ended. One device's changes are applied one
 * after another in partition order ({@link DiskKv#removeRouteIf} is a GET then a DEL, so a later SET of the same
 * device must not overtake it); different devices go in parallel. Applying a batch again gives the same result, so
 * a batch read twice (after a crash or a retry) is harmless. A null value (a compaction tombstone) is no change; a
 * value that is not a RouteChange fails the batch and is dead-lettered once it failed every attempt.
 */
public final class RouteBackup {
    private final DiskKv diskKv;
    private final BackupLag lag;
    private final Counter connects;
    private final Counter disconnects;
    private final Counter kept;

    public RouteBackup(DiskKv diskKv, BackupLag lag, MeterRegistry registry) {
        this.diskKv = diskKv;
        this.lag = lag;
        this.connects = Counter.builder("tern.backup.routes").tag("outcome", "connected")
                .description("route changes applied").register(registry);
        this.disconnects = Counter.builder("tern.backup.routes").tag("outcome", "removed")
                .description("route changes applied").register(registry);
        this.kept = Counter.builder("tern.backup.routes").tag("outcome", "newer-kept")
                .description("route changes applied").register(registry);
    }

    public CompletableFuture<Void> write(List<ConsumerRecord<String, byte[]>> batch) {
        Map<String, List<ConsumerRecord<String, byte[]>>> byDevice = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> r : batch) {
            byDevice.computeIfAbsent(r.partition() + "/" + r.key(), k -> new ArrayList<>()).add(r);
        }
        List<CompletableFuture<Void>> chains = new ArrayList<>(byDevice.size());
        for (List<ConsumerRecord<String, byte[]>> changes : byDevice.values()) {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (ConsumerRecord<String, byte[]> r : changes) {
                chain = chain.thenCompose(x -> apply(r));
            }
            chains.add(chain);
        }
        return CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> apply(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) {
            return CompletableFuture.completedFuture(null);
        }
        RouteChange c;
        try {
            c = RouteChange.decode(r.value());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> done = c.isConnect()
                ? diskKv.putRoute(c.appId(), c.regId(), c.route()).thenRun(connects::increment)
                : diskKv.removeRouteIf(c.appId(), c.regId(), c.ended())
                        .thenAccept(removed -> (removed ? disconnects : kept).increment());
        return done.thenRun(() -> lag.written(r));
    }
}
