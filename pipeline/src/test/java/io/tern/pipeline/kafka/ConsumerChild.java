package io.tern.pipeline.kafka;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A group member in its own JVM, so a test can SIGKILL it (no leave, no heartbeat, as a crashed
 * logic node). Prints {@code GOT <partition> <value>} for every record it applies.
 * Args: bootstrap group instanceId topic sessionTimeoutMs.
 */
public final class ConsumerChild {
    public static void main(String[] args) throws Exception {
        ConsumerPolicy p = ConsumerPolicy.defaults();
        ConsumerPolicy policy = new ConsumerPolicy(Duration.ofMillis(Long.parseLong(args[4])), p.maxAttempts(),
                p.retryPause(), p.backoffInitial(), p.backoffMax(), p.unassignedGrace());
        BatchConsumer c = new BatchConsumer(args[0], args[1], args[2], args[3], 100, Duration.ofSeconds(10), policy,
                BatchConsumer.eachRecord(r -> {
                    System.out.println("GOT " + r.partition() + " " + new String(r.value()));
                    System.out.flush();
                    return CompletableFuture.completedFuture(null);
                }), e -> false, new SimpleMeterRegistry(), "child-" + args[2]).start();
        System.out.println("STARTED");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
        c.close();
    }
}
