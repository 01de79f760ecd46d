package io.tern.pipeline.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * At-least-once consumption on its own thread: each polled batch is handed to the handler (per
 * record, or the whole batch at once), whose futures must all complete before the offsets are
 * committed, so handlers must be idempotent.
 *
 * <p>Failures never end the thread and never block a partition for good:
 * <ul>
 *   <li>a failing batch is tried {@code maxAttempts} times, then record by record; a record that
 *       still fails goes to the dead-letter topic ({@link Topics#deadLetter}) and the others are
 *       applied; then the batch is committed;</li>
 *   <li>a failure the owner calls transient (its store unreachable) dead-letters nothing: the
 *       consumer is restarted after a backoff and reads the batch again, as after any other
 *       exception (a failed commit, a lost assignment, Kafka unreachable);</li>
 *   <li>{@link #consuming()} is false while it backs off, is stopped, or has had no group
 *       assignment for longer than the grace period: /health reports it.</li>
 * </ul>
 * Membership is static ({@code group.instance.id}): a restarted node takes its partitions back
 * without a rebalance, a dead one loses them after the session timeout, and a clean close leaves
 * the group so they move at once.
 */
public final class BatchConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchConsumer.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

    /** What the consumer is doing, for /health and logs. */
    public enum State { STARTING, CONSUMING, BACKING_OFF, STOPPED }

    private final Properties consumerProperties;
    private final String topic;
    private final Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> handler;
    private final Predicate<Throwable> transientFailure;
    private final Duration batchTimeout;
    private final ConsumerPolicy policy;
    private final String name;
    private final DeadLetters deadLetters;
    private final Counter restarts;
    private final Counter retries;
    private final Counter deadLettered;
    private final Thread thread;
    private final Object sleeper = new Object();
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> current;
    private volatile State state = State.STARTING;
    private volatile boolean assigned;
    private volatile long unassignedSinceNanos = System.nanoTime();
    private volatile long lag;

    /**
     * @param instanceId       this node's static group member name (unique per node in the group), or null for a
     *                         dynamic member
     * @param handler          gets each polled batch (at most {@code batchMax} records) at once, e.g. to write them
     *                         in one round trip; {@link #eachRecord} adapts a per-record handler
     * @param transientFailure failures (causes unwrapped) that say the handler's dependencies are down rather than
     *                         that the record is bad: never dead-lettered, the batch is read again after a backoff
     */
    public BatchConsumer(String bootstrap, String group, String instanceId, String topic, int batchMax,
                         Duration batchTimeout, ConsumerPolicy policy,
                         Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> handler,
                         Predicate<Throwable> transientFailure, MeterRegistry registry, String name) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        if (instanceId != null) {
            p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        }
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) policy.sessionTimeout().toMillis());
        // Other members hear of a rebalance (a node left or died) in a heartbeat answer: beat often.
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
                (int) Math.max(100, Math.min(1000, policy.sessionTimeout().toMillis() / 3)));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, batchMax);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
        this.consumerProperties = p;
        this.topic = topic;
        this.handler = handler;
        this.transientFailure = transientFailure;
        this.batchTimeout = batchTimeout;
        this.policy = policy;
        this.name = name;
        this.deadLetters = new DeadLetters(bootstrap, name);
        this.restarts = Counter.builder("tern.consumer.restarts").tag("consumer", topic)
                .description("consumers started again after a failure").register(registry);
        this.retries = Counter.builder("tern.consumer.retries").tag("consumer", topic)
                .description("batches or records applied again after a failed attempt").register(registry);
        this.deadLettered = Counter.builder("tern.consumer.dead.lettered").tag("consumer", topic)
                .description("records sent to the dead-letter topic after failing every attempt").register(registry);
        Gauge.builder("tern.consumer.lag", this, c -> c.lag).tag("consumer", topic)
                .description("records behind the end of the assigned partitions").register(registry);
        Gauge.builder("tern.consumer.up", this, c -> c.consuming() ? 1 : 0).tag("consumer", topic)
                .description("1 while consuming (see /health)").register(registry);
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    /** A batch handler that calls {@code handler} for each record and completes when all have. */
    public static Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> eachRecord(
            Function<ConsumerRecord<String, byte[]>, CompletableFuture<?>> handler) {
        return records -> {
            List<CompletableFuture<?>> work = new ArrayList<>(records.size());
            for (ConsumerRecord<String, byte[]> r : records) {
                work.add(handler.apply(r));
            }
            return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new));
        };
    }

    public BatchConsumer start() {
        thread.start();
        return this;
    }

    /** True once the group gave this consumer its partitions (possibly none: more members than partitions). */
    public boolean assigned() {
        return assigned;
    }

    public State state() {
        return state;
    }

    /**
     * For /health: false while backing off after a failure, once stopped, or when the consumer has
     * been without a group assignment for longer than the grace period.
     */
    public boolean consuming() {
        State s = state;
        if (s == State.BACKING_OFF || s == State.STOPPED) {
            return false;
        }
        return assigned || System.nanoTime() - unassignedSinceNanos < policy.unassignedGrace().toNanos();
    }

    private void run() {
        int failures = 0;
        while (running) {
            boolean failed = false;
            KafkaConsumer<String, byte[]> c = null;
            try {
                c = new KafkaConsumer<>(consumerProperties, new StringDeserializer(), new ByteArrayDeserializer());
                current = c;
                if (!running) {
                    break;
                }
                unassigned();
                state = State.STARTING;
                c.subscribe(List.of(topic), new Rebalance());
                while (running) {
                    ConsumerRecords<String, byte[]> records = c.poll(POLL);
                    if (assigned) {
                        state = State.CONSUMING;
                    }
                    updateLag(c);
                    if (!records.isEmpty()) {
                        process(c, records);
                        failures = 0; // committed: the next failure starts the backoff afresh
                    }
                }
            } catch (WakeupException | InterruptException e) {
                // close() woke us up
            } catch (FencedInstanceIdException e) {
                failed = running;
                failures++;
                restarts.increment();
                log.error("[{}] another member of group {} uses the instance id {}: every node needs its own logic.id;"
                        + " starting again in {} ms", name, consumerProperties.get(ConsumerConfig.GROUP_ID_CONFIG),
                        consumerProperties.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), policy.backoff(failures).toMillis());
            } catch (Exception e) {
                failed = running;
                if (failed) {
                    failures++;
                    restarts.increment();
                    log.warn("[{}] consumer failed ({}); starting again in {} ms", name, e.toString(),
                            policy.backoff(failures).toMillis(), log.isDebugEnabled() ? e : null);
                }
            } finally {
                if (c != null) {
                    closeQuietly(c, running);
                }
                assigned = false;
            }
            if (failed) {
                state = State.BACKING_OFF;
                pause(policy.backoff(failures));
            }
        }
        state = State.STOPPED;
    }

    /** A restart keeps the static membership (the partitions wait for us); a close leaves the group. */
    private void closeQuietly(KafkaConsumer<String, byte[]> c, boolean restarting) {
        try {
            c.close(CloseOptions.groupMembershipOperation(restarting
                            ? CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP
                            : CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(CLOSE_TIMEOUT));
        } catch (RuntimeException e) {
            log.debug("[{}] closing the consumer: {}", name, e.toString());
        }
    }

    private void process(KafkaConsumer<String, byte[]> c, ConsumerRecords<String, byte[]> records) throws Exception {
        List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>(records.count());
        records.forEach(batch::add);
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : batch) {
            next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        Throwable failure = attempts(c, batch);
        if (failure != null && batch.size() > 1) {
            log.warn("[{}] a batch of {} records failed {} times ({}); applying them one by one", name, batch.size(),
                    policy.maxAttempts(), failure.toString());
            for (ConsumerRecord<String, byte[]> r : batch) {
                Throwable alone = attempts(c, List.of(r));
                if (alone != null) {
                    deadLetter(r, alone);
                }
            }
        } else if (failure != null) {
            deadLetter(batch.get(0), failure);
        }
        c.commitSync(next);
    }

    /**
     * Applies {@code records} up to {@code maxAttempts} times.
     *
     * @return null once applied, else the last failure
     * @throws TransientFailure when the failure is the owner's dependencies being down
     */
    private Throwable attempts(KafkaConsumer<String, byte[]> c, List<ConsumerRecord<String, byte[]>> records)
            throws InterruptedException {
        Throwable last = null;
        for (int attempt = 1; attempt <= policy.maxAttempts(); attempt++) {
            if (attempt > 1) {
                retries.increment();
                pause(policy.retryPause());
                keepMembership(c);
            }
            last = applyOnce(records);
            if (last == null) {
                return null;
            }
            if (transientFailure.test(last)) {
                throw new TransientFailure(last);
            }
            if (!running) {
                throw new InterruptException("stopping");
            }
        }
        return last;
    }

    private Throwable applyOnce(List<ConsumerRecord<String, byte[]>> records) throws InterruptedException {
        try {
            handler.apply(records).get(batchTimeout.toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause() == null ? e : e.getCause();
        } catch (TimeoutException e) {
            return new TimeoutException("not applied within " + batchTimeout.toMillis() + " ms");
        } catch (RuntimeException e) {
            return e; // the handler threw instead of failing its future
        }
    }

    /**
     * Polls without taking records while a batch is retried, so a long retry does not exceed
     * {@code max.poll.interval.ms}; anything a rebalance hands over meanwhile is read again later.
     */
    private void keepMembership(KafkaConsumer<String, byte[]> c) {
        c.pause(c.assignment());
        ConsumerRecords<String, byte[]> stray = c.poll(Duration.ZERO);
        Set<TopicPartition> rewound = new HashSet<>();
        for (ConsumerRecord<String, byte[]> r : stray) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (rewound.add(tp)) {
                c.seek(tp, r.offset());
            }
        }
        c.resume(c.assignment());
    }

    private void deadLetter(ConsumerRecord<String, byte[]> r, Throwable why) throws Exception {
        // Waited for: the record is committed past only once the dead-letter topic holds it.
        deadLetters.send(r, why).get(DeadLetters.TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
        deadLettered.increment();
        log.warn("[{}] record {}-{}@{} failed {} times ({}); sent to {}", name, r.topic(), r.partition(), r.offset(),
                policy.maxAttempts(), why, Topics.deadLetter(r.topic()));
    }

    private void updateLag(KafkaConsumer<String, byte[]> c) {
        long sum = 0;
        for (TopicPartition tp : c.assignment()) {
            OptionalLong l = c.currentLag(tp);
            if (l.isPresent()) {
                sum += l.getAsLong();
            }
        }
        lag = sum;
    }

    private void unassigned() {
        assigned = false;
        unassignedSinceNanos = System.nanoTime();
    }

    /** Sleeps, but close() wakes it. */
    private void pause(Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        synchronized (sleeper) {
            long left;
            while (running && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(sleeper, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Every batch is committed before the next poll: nothing to hand over.
            unassigned();
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assigned = true;
            state = State.CONSUMING;
            log.info("[{}] assigned {} partitions of {}", name, partitions.size(), topic);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            unassigned();
        }
    }

    /** The owner's dependencies are down: back off and read the batch again, dead-letter nothing. */
    private static final class TransientFailure extends RuntimeException {
        TransientFailure(Throwable cause) {
            super("transient failure: " + cause, cause);
        }
    }

    @Override
    public void close() {
        running = false;
        synchronized (sleeper) {
            sleeper.notifyAll();
        }
        KafkaConsumer<String, byte[]> c = current;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5_000);
            if (thread.isAlive()) {
                thread.interrupt(); // a handler still running: its batch is read again by the next owner
                thread.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deadLetters.close();
        state = State.STOPPED;
    }
}
