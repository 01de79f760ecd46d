package io.tern.logic.callback;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;
import java.util.List;

/**
 * Receipt callbacks to app servers, keys {@code logic.callback.*}.
 *
 * @param batchMax       receipts per POST, at most 100 (the API contract)
 * @param linger         how long a partial batch waits for more receipts before it is posted
 * @param maxAttempts    POSTs of one batch before its receipts count as failed callbacks
 * @param backoffInitial delay before the first retry; doubled per retry (with jitter) up to {@code backoffMax}
 * @param backoffMax     longest delay between two attempts
 * @param requestTimeout connect + response bound of one POST
 * @param queueCapacity  receipts one node holds in memory at once (batched, in flight or awaiting a retry); more
 *                       stay parked in the Redis outbox until there is room
 * @param concurrency    POSTs in flight per callback URL (a slow app server only uses its own slots)
 * @param targets        which callback URLs may be posted to
 * @param outbox         the durable hand-off of receipts ({@link Outbox})
 */
public record CallbackConfig(int batchMax, Duration linger, int maxAttempts, Duration backoffInitial,
                             Duration backoffMax, Duration requestTimeout, int queueCapacity, int concurrency,
                             Targets targets, Outbox outbox) {

    public static final int MAX_BATCH = 100;
    public static final int DEFAULT_BATCH_MAX = 100;
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(200);
    public static final int DEFAULT_MAX_ATTEMPTS = 5;
    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(200);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(10);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_QUEUE_CAPACITY = 100_000;
    public static final int DEFAULT_CONCURRENCY = 4;

    public CallbackConfig {
        ConfigException.require(batchMax >= 1 && batchMax <= MAX_BATCH, "logic.callback.batch-max must be in [1, 100]");
        ConfigException.require(!linger.isNegative() && linger.compareTo(Duration.ofSeconds(60)) <= 0,
                "logic.callback.linger must be in [0, 60s]");
        ConfigException.require(maxAttempts >= 1 && maxAttempts <= 50, "logic.callback.max-attempts must be in [1, 50]");
        ConfigException.require(backoffInitial.toMillis() >= 1, "logic.callback.backoff-initial must be >= 1ms");
        ConfigException.require(backoffMax.compareTo(backoffInitial) >= 0,
                "logic.callback.backoff-max must be >= logic.callback.backoff-initial");
        ConfigException.require(requestTimeout.toMillis() >= 1, "logic.callback.request-timeout must be >= 1ms");
        ConfigException.require(queueCapacity >= batchMax && queueCapacity <= 10_000_000,
                "logic.callback.queue-capacity must be in [batch-max, 10000000]");
        ConfigException.require(concurrency >= 1 && concurrency <= 256, "logic.callback.concurrency must be in [1, 256]");
        ConfigException.require(outbox != null, "logic.callback.outbox-* must be set");
        ConfigException.require(outbox.lease().compareTo(requestTimeout) > 0,
                "logic.callback.lease must be longer than logic.callback.request-timeout");
    }

    /** The same settings with another outbox (tests: a short lease). */
    public CallbackConfig withOutbox(Outbox o) {
        return new CallbackConfig(batchMax, linger, maxAttempts, backoffInitial, backoffMax, requestTimeout,
                queueCapacity, concurrency, targets, o);
    }

    /**
     * Receipts are parked in Redis ({@code CallbackOutbox}) by the script run that applies their ack, so before
     * it is committed in Kafka, and leave it once posted or given up on, so a node's death loses none: another node takes them once their lease ran out.
     *
     * @param lease         how long a node may hold a parked receipt before any node may take it (renewed on
     *                      every retry); how long a killed node's callbacks wait ({@code logic.callback.lease})
     * @param sweepInterval how often a node looks for parked receipts due ({@code logic.callback.sweep-interval})
     * @param max           receipts parked at most; beyond it receipts wait in Kafka ({@code logic.callback.outbox-max})
     */
    public record Outbox(Duration lease, Duration sweepInterval, int max) {
        public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
        public static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(1);
        public static final int DEFAULT_MAX = 1_000_000;

        public Outbox {
            ConfigException.require(lease.toMillis() >= 10 && lease.compareTo(Duration.ofHours(1)) <= 0,
                    "logic.callback.lease must be in [10ms, 1h]");
            ConfigException.require(sweepInterval.toMillis() >= 10 && sweepInterval.compareTo(Duration.ofMinutes(10)) <= 0,
                    "logic.callback.sweep-interval must be in [10ms, 10m]");
            ConfigException.require(max >= 1 && max <= 100_000_000, "logic.callback.outbox-max must be in [1, 100000000]");
        }

        public static Outbox defaults() {
            return new Outbox(DEFAULT_LEASE, DEFAULT_SWEEP_INTERVAL, DEFAULT_MAX);
        }
    }

    public static CallbackConfig defaults() {
        return new CallbackConfig(DEFAULT_BATCH_MAX, DEFAULT_LINGER, DEFAULT_MAX_ATTEMPTS, DEFAULT_BACKOFF_INITIAL,
                DEFAULT_BACKOFF_MAX, DEFAULT_REQUEST_TIMEOUT, DEFAULT_QUEUE_CAPACITY, DEFAULT_CONCURRENCY,
                Targets.defaults(), Outbox.defaults());
    }

    /**
     * Where callbacks may go ({@link CallbackUrlGuard}): public addresses, plus what {@code allow} lists.
     *
     * @param allow           {@code host:port}, {@code [ipv6]:port} or CIDR entries let through although internal
     *                        (e.g. an app server on the same private network); empty by default
     * @param resolverThreads threads resolving callback hosts (DNS blocks, so not on an event loop)
     * @param resolverQueue   host checks waiting for a resolver thread; beyond it the API answers 429
     */
    public record Targets(List<String> allow, int resolverThreads, int resolverQueue) {
        public static final int DEFAULT_RESOLVER_THREADS = 2;
        public static final int DEFAULT_RESOLVER_QUEUE = 1000;

        public Targets {
            allow = CallbackUrlGuard.validated(allow);
            ConfigException.require(resolverThreads >= 1 && resolverThreads <= 64,
                    "logic.callback.resolver-threads must be in [1, 64]");
            ConfigException.require(resolverQueue >= 1 && resolverQueue <= 1_000_000,
                    "logic.callback.resolver-queue must be in [1, 1000000]");
        }

        public static Targets defaults() {
            return new Targets(List.of(), DEFAULT_RESOLVER_THREADS, DEFAULT_RESOLVER_QUEUE);
        }

        /** Only {@code allow} changed: tests let their local app server through. */
        public static Targets allowing(String... entries) {
            return new Targets(List.of(entries), DEFAULT_RESOLVER_THREADS, DEFAULT_RESOLVER_QUEUE);
        }
    }

    /** Reads {@code logic.callback.*}; the caller's {@code warnUnread("logic.")} reports typos. */
    public static CallbackConfig from(Settings s) {
        return new CallbackConfig(
                s.integer("logic.callback.batch-max", DEFAULT_BATCH_MAX),
                s.duration("logic.callback.linger", DEFAULT_LINGER),
                s.integer("logic.callback.max-attempts", DEFAULT_MAX_ATTEMPTS),
                s.duration("logic.callback.backoff-initial", DEFAULT_BACKOFF_INITIAL),
                s.duration("logic.callback.backoff-max", DEFAULT_BACKOFF_MAX),
                s.duration("logic.callback.request-timeout", DEFAULT_REQUEST_TIMEOUT),
                s.integer("logic.callback.queue-capacity", DEFAULT_QUEUE_CAPACITY),
                s.integer("logic.callback.concurrency", DEFAULT_CONCURRENCY),
                new Targets(s.list("logic.callback.allow", List.of()),
                        s.integer("logic.callback.resolver-threads", Targets.DEFAULT_RESOLVER_THREADS),
                        s.integer("logic.callback.resolver-queue", Targets.DEFAULT_RESOLVER_QUEUE)),
                new Outbox(s.duration("logic.callback.lease", Outbox.DEFAULT_LEASE),
                        s.duration("logic.callback.sweep-interval", Outbox.DEFAULT_SWEEP_INTERVAL),
                        s.integer("logic.callback.outbox-max", Outbox.DEFAULT_MAX)));
    }
}
