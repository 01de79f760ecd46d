package io.tern.bypass.drain;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.tern.pipeline.buffer.BufferCodec;
import io.tern.pipeline.buffer.BufferedPush;
import io.tern.pipeline.kafka.DeadLetters;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
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
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Drains the buffer topic, any number of instances in one consumer group: each record is decoded, waits for its
 * {@code deliveries} permits, and is handed to the {@link BufferHandler}; offsets are committed only contiguously
 * (see {@link PartitionProgress}), so a kill -9 hands over every record not yet recorded downstream and handlers
 * are idempotent on msgId. A record that cannot be decoded, or fails {@code retryAttempts} times, goes to the
 * dead-letter topic and counts as done: the partition keeps moving. A transient failure (the store unreachable) is
 * retried until it succeeds, holding its partition's window.
 *
 * <p>A partition is paused while it has records waiting for the permit or its window
 * ({@code maxInFlightPerPartition}, {@code maxInFlight} in all) is full, and resumed once they are not; pauses are
 * recomputed every loop, so they hold across rebalances. On revoke, what is contiguous is committed and the
 * partition's state dropped (its in-flight records are handled again by the new owner).
 *
 * <p>Why not {@code pipeline/kafka/BatchConsumer}: it hands a whole poll to the handler and commits only once all of
 * it completed, retrying in place. The drain hands records out one at a time as permits come, must keep polling
 * (to stay in the group) while it is paced, and commits whatever is contiguous meanwhile.
 */
public final class DrainConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DrainConsumer.class);
    private static final Duration BUSY_POLL = Duration.ofMillis(10);
    private static final Duration IDLE_POLL = Duration.ofMillis(200);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);
    private static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long LAG_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** What the consumer is doing, for /health and logs. */
    public enum State { STARTING, CONSUMING, BACKING_OFF, STOPPED }

    private final Properties properties;
    private final String topic;
    private final DrainConfig config;
    private final BufferHandler handler;
    private final DrainPermit permit;
    private final Predicate<Throwable> transientFailure;
    private final DeadLetters deadLetters;
    private final String name;
    private final Thread thread;
    private final ScheduledExecutorService retryTimer;
    private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Entry> retriesDue = new ConcurrentLinkedQueue<>();
    private final Map<TopicPartition, Lane> lanes = new HashMap<>(); // consumer thread only
    private final AtomicInteger handling = new AtomicInteger();
    private final Counter drained;
    private final Counter deadLettered;
    private final Counter permitWaits;
    private final Counter retries;
    private final Counter restarts;
    private final MultiGauge lagByPartition;
    private final Object sleeper = new Object();
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> current;
    private volatile State state = State.STARTING;
    private volatile boolean assigned;
    private volatile long unassignedSinceNanos = System.nanoTime();
    private volatile int open;
    private volatile long lag;
    private long lagRefreshedNanos;
    private Entry awaitingPermit; // consumer thread only
    private int roundRobin;

    /**
     * @param transientFailure failures (causes unwrapped) that say the handler's dependencies are down rather than
     *                         that the record is bad: retried until they succeed, never dead-lettered
     */
    public DrainConsumer(String bootstrap, String group, String topic, String clientId, DrainConfig config,
                         BufferHandler handler, DrainPermit permit, Predicate<Throwable> transientFailure,
                         MeterRegistry registry) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.pollSize());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) config.sessionTimeout().toMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
                (int) Math.max(100, Math.min(3000, config.sessionTimeout().toMillis() / 3)));
        // Scaling the drain up or down moves only the partitions that change owner: the others keep their windows.
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        this.properties = p;
        this.topic = topic;
        this.config = config;
        this.handler = handler;
        this.permit = permit;
        this.transientFailure = transientFailure;
        this.name = clientId;
        this.deadLetters = new DeadLetters(bootstrap, clientId);
        this.drained = Counter.builder("tern.bypass.drained").description("buffered pushes handled downstream")
                .register(registry);
        this.deadLettered = Counter.builder("tern.bypass.dead.lettered")
                .description("buffer records sent to the dead-letter topic (unreadable, or failed every attempt)")
                .register(registry);
        this.permitWaits = Counter.builder("tern.bypass.permit.waits")
                .description("buffer records that had to wait for the permit").register(registry);
        this.retries = Counter.builder("tern.bypass.retries").description("handlings tried again after a failure")
                .register(registry);
        this.restarts = Counter.builder("tern.bypass.consumer.restarts")
                .description("consumers started again after a failure").register(registry);
        Gauge.builder("tern.bypass.inflight", this, c -> c.open)
                .description("records read and not yet committed past (waiting for the permit, being handled, done "
                        + "behind an unfinished one)").register(registry);
        Gauge.builder("tern.bypass.lag", this, c -> c.lag)
                .description("records behind the end of the assigned partitions").register(registry);
        this.lagByPartition = MultiGauge.builder("tern.bypass.partition.lag")
                .description("records behind the end of each assigned partition (the consumer's records-lag)")
                .register(registry);
        Gauge.builder("tern.bypass.up", this, c -> c.consuming() ? 1 : 0)
                .description("1 while consuming (see /health)").register(registry);
        this.retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, clientId + "-retry");
            t.setDaemon(true);
            return t;
        });
        this.thread = new Thread(this::run, clientId);
        this.thread.setDaemon(true);
    }

    public DrainConsumer start() {
        thread.start();
        return this;
    }

    public State state() {
        return state;
    }

    /** True while the group has given this consumer its partitions (possibly none). */
    public boolean assigned() {
        return assigned;
    }

    /** For /health: false while backing off, once stopped, or unassigned for longer than the grace period. */
    public boolean consuming() {
        State s = state;
        if (s == State.BACKING_OFF || s == State.STOPPED) {
            return false;
        }
        return assigned || System.nanoTime() - unassignedSinceNanos < config.unassignedGrace().toNanos();
    }

    /** Records behind the end of the assigned partitions, refreshed about every second. */
    public long lag() {
        return lag;
    }

    private void run() {
        int failures = 0;
        while (running) {
            KafkaConsumer<String, byte[]> c = null;
            boolean failed = false;
            try {
                c = new KafkaConsumer<>(properties, new StringDeserializer(), new ByteArrayDeserializer());
                current = c;
                if (!running) {
                    break;
                }
                state = State.STARTING;
                c.subscribe(List.of(topic), new Rebalance(c));
                long lastCommitNanos = System.nanoTime();
                while (running) {
                    boolean busy = step(c);
                    if (System.nanoTime() - lastCommitNanos >= config.commitInterval().toNanos()) {
                        commit(c, lanes.keySet(), false);
                        lastCommitNanos = System.nanoTime();
                    }
                    refreshLag(c);
                    read(c, c.poll(busy ? BUSY_POLL : IDLE_POLL));
                    if (assigned) {
                        state = State.CONSUMING;
                        failures = 0;
                    }
                }
            } catch (WakeupException | InterruptException e) {
                // close() woke us up
            } catch (Exception e) {
                failed = running;
                if (failed) {
                    failures++;
                    restarts.increment();
                    log.warn("[{}] consumer failed ({}); starting again in {} ms", name, e.toString(),
                            config.backoffMillis(failures), log.isDebugEnabled() ? e : null);
                }
            } finally {
                if (c != null) {
                    finish(c, !failed);
                }
            }
            if (failed) {
                state = State.BACKING_OFF;
                pause(config.backoffMillis(failures));
            }
        }
        state = State.STOPPED;
    }

    /**
     * One turn of the loop between polls: applies completions, starts due retries and whatever the permit allows,
     * then pauses and resumes partitions.
     *
     * @return true when work is waiting (for the permit or handlers): poll briefly
     */
    private boolean step(KafkaConsumer<String, byte[]> c) {
        applyDone();
        for (Entry e; (e = retriesDue.poll()) != null; ) {
            if (!e.lane.revoked) {
                start(e);
            }
        }
        boolean waiting = startWaiting();
        applyPauses(c);
        return waiting || handling.get() > 0;
    }

    private void read(KafkaConsumer<String, byte[]> c, Iterable<ConsumerRecord<String, byte[]>> records) {
        for (ConsumerRecord<String, byte[]> r : records) {
            Lane lane = lanes.get(new TopicPartition(r.topic(), r.partition()));
            if (lane == null) {
                continue; // not ours any more (cannot happen inside one poll, but costs nothing to check)
            }
            lane.progress.read(r.offset());
            lane.waiting.add(new Entry(lane, r));
        }
        countOpen();
    }

    /**
     * Round-robin over partitions, one record each per round, while the permit grants at once. One acquire waits at
     * a time (the gate serves in order, and a task costing more than a second's share is granted into debt rather
     * than starved); the loop looks at it again each turn.
     *
     * @return true while a record waits for the permit
     */
    private boolean startWaiting() {
        Entry a = awaitingPermit;
        if (a != null) {
            if (a.lane.revoked) {
                awaitingPermit = null; // its permits are spent; the new owner pays again
            } else if (!a.permit.isDone()) {
                return true;
            } else if (a.permit.isCompletedExceptionally()) {
                a.permit = null; // the gate closing: ask again next turn
                awaitingPermit = null;
                return true;
            } else {
                awaitingPermit = null;
                a.lane.waiting.poll(); // still its lane's head: nothing is taken from a lane while its head waits
                start(a);
            }
        }
        List<Lane> withWork = new ArrayList<>();
        for (Lane l : lanes.values()) {
            if (!l.waiting.isEmpty()) {
                withWork.add(l);
            }
        }
        if (withWork.isEmpty()) {
            return false;
        }
        int n = withWork.size();
        int startAt = Math.floorMod(roundRobin++, n);
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < n; i++) {
                Lane l = withWork.get((startAt + i) % n);
                Entry e = l.waiting.peek();
                if (e == null) {
                    continue;
                }
                if (e.push != null) {
                    e.permit = permit.acquire(e.push.deliveries());
                    if (!e.permit.isDone() || e.permit.isCompletedExceptionally()) {
                        if (!e.waitedForPermit) {
                            e.waitedForPermit = true;
                            permitWaits.increment();
                        }
                        awaitingPermit = e;
                        return true; // every partition waits behind it
                    }
                }
                l.waiting.poll();
                start(e);
                progress = true;
            }
        }
        return false;
    }

    private void start(Entry e) {
        handling.incrementAndGet();
        CompletableFuture<?> f;
        try {
            f = e.deadLetterReason != null ? deadLetters.send(e.record, e.deadLetterReason) : handler.handle(e.push);
        } catch (RuntimeException ex) {
            f = CompletableFuture.failedFuture(ex); // the handler threw instead of failing its future
        }
        f.whenComplete((x, err) -> {
            handling.decrementAndGet();
            done.add(new Done(e, err));
        });
    }

    private void applyDone() {
        for (Done d; (d = done.poll()) != null; ) {
            Entry e = d.entry;
            if (e.lane.revoked) {
                continue; // its new owner handles it again
            }
            if (d.error == null) {
                e.lane.progress.completed(e.record.offset());
                if (e.deadLetterReason != null) {
                    deadLettered.increment();
                    log.warn("[{}] record {}-{}@{} sent to the dead-letter topic: {}", name, e.record.topic(),
                            e.record.partition(), e.record.offset(), e.deadLetterReason.getMessage());
                } else {
                    drained.increment();
                }
            } else {
                failed(e, unwrap(d.error));
            }
        }
        countOpen();
    }

    private void failed(Entry e, Throwable cause) {
        e.attempts++;
        retries.increment();
        if (e.deadLetterReason != null || transientFailure.test(cause)) {
            // Kafka or the store unreachable: try again until it works; the window holds the partition meanwhile.
            log.debug("[{}] record {}-{}@{}: {}; trying again", name, e.record.topic(), e.record.partition(),
                    e.record.offset(), cause.toString());
            later(e, config.backoffMillis(e.attempts));
        } else if (e.attempts < config.retryAttempts()) {
            later(e, config.backoffMillis(e.attempts));
        } else {
            e.deadLetterReason = cause;
            e.attempts = 0;
            start(e);
        }
    }

    private void later(Entry e, long delayMillis) {
        retryTimer.schedule(() -> retriesDue.add(e), delayMillis, TimeUnit.MILLISECONDS);
    }

    private void applyPauses(KafkaConsumer<String, byte[]> c) {
        int total = countOpen();
        Set<TopicPartition> pause = new HashSet<>();
        Set<TopicPartition> resume = new HashSet<>();
        Set<TopicPartition> paused = c.paused();
        for (Map.Entry<TopicPartition, Lane> le : lanes.entrySet()) {
            Lane l = le.getValue();
            boolean full = !l.waiting.isEmpty() || l.progress.open() >= config.maxInFlightPerPartition()
                    || total >= config.maxInFlight();
            if (full && !paused.contains(le.getKey())) {
                pause.add(le.getKey());
            } else if (!full && paused.contains(le.getKey())) {
                resume.add(le.getKey());
            }
        }
        if (!pause.isEmpty()) {
            c.pause(pause);
        }
        if (!resume.isEmpty()) {
            c.resume(resume);
        }
    }

    private int countOpen() {
        int total = 0;
        for (Lane l : lanes.values()) {
            total += l.progress.open();
        }
        open = total;
        return total;
    }

    /** Commits each partition's contiguous completion, where it moved. */
    private void commit(KafkaConsumer<String, byte[]> c, Collection<TopicPartition> partitions, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            Lane l = lanes.get(tp);
            long next = l == null ? -1 : l.progress.toCommit();
            if (next >= 0) {
                offsets.put(tp, new OffsetAndMetadata(next));
                l.progress.committed(next);
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            try {
                c.commitSync(offsets, COMMIT_TIMEOUT);
            } catch (RuntimeException e) {
                offsets.forEach((tp, o) -> lanes.get(tp).progress.commitFailed(o.offset()));
                throw e;
            }
            return;
        }
        c.commitAsync(offsets, (committed, err) -> {
            if (err != null) {
                log.debug("[{}] commit failed ({}); sent again next time", name, err.toString());
                offsets.forEach((tp, o) -> {
                    Lane l = lanes.get(tp);
                    if (l != null) {
                        l.progress.commitFailed(o.offset());
                    }
                });
            }
        });
    }

    private void refreshLag(KafkaConsumer<String, byte[]> c) {
        long now = System.nanoTime();
        if (now - lagRefreshedNanos < LAG_REFRESH_NANOS) {
            return;
        }
        lagRefreshedNanos = now;
        long sum = 0;
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (TopicPartition tp : c.assignment()) {
            OptionalLong l = c.currentLag(tp);
            if (l.isPresent()) {
                sum += l.getAsLong();
                rows.add(MultiGauge.Row.of(Tags.of("partition", Integer.toString(tp.partition())), l.getAsLong()));
            }
        }
        lag = sum;
        lagByPartition.register(rows, true);
    }

    /** Lets in-flight handlings finish (briefly), commits what is contiguous, and leaves (or keeps) the group. */
    private void finish(KafkaConsumer<String, byte[]> c, boolean orderly) {
        try {
            if (orderly) {
                long deadline = System.nanoTime() + CLOSE_GRACE_NANOS;
                while (handling.get() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                applyDone();
                try {
                    commit(c, lanes.keySet(), true);
                } catch (WakeupException e) {
                    commit(c, lanes.keySet(), true); // close() woke a consumer that was not polling: the wakeup is spent
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("[{}] final commit failed ({}); the next owner handles those records again", name, e.toString());
        }
        dropAll();
        try {
            c.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(CLOSE_TIMEOUT));
        } catch (RuntimeException e) {
            log.debug("[{}] closing the consumer: {}", name, e.toString());
        }
    }

    private void dropAll() {
        awaitingPermit = null;
        lanes.values().forEach(l -> l.revoked = true);
        lanes.clear();
        done.clear();
        countOpen();
        lagByPartition.register(List.of(), true);
        unassigned();
    }

    private void unassigned() {
        assigned = false;
        unassignedSinceNanos = System.nanoTime();
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Sleeps, but close() wakes it. */
    private void pause(long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
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
        private final KafkaConsumer<String, byte[]> consumer;

        Rebalance(KafkaConsumer<String, byte[]> consumer) {
            this.consumer = consumer;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            applyDone();
            try {
                commit(consumer, partitions, true);
            } catch (RuntimeException e) {
                log.warn("[{}] commit on revoke failed ({}); the next owner handles those records again", name,
                        e.toString());
            }
            drop(partitions);
            log.info("[{}] revoked {} partitions of {}", name, partitions.size(), topic);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            drop(partitions);
            log.info("[{}] lost {} partitions of {}", name, partitions.size(), topic);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                lanes.computeIfAbsent(tp, k -> new Lane());
            }
            assigned = true;
            state = State.CONSUMING;
            applyPauses(consumer); // pauses are per assignment: put them back before the poll returns records
            if (!partitions.isEmpty()) {
                log.info("[{}] assigned {} partitions of {}", name, partitions.size(), topic);
            }
        }

        private void drop(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                Lane l = lanes.remove(tp);
                if (l != null) {
                    l.revoked = true;
                }
            }
            countOpen();
            if (lanes.isEmpty()) {
                unassigned();
            }
        }
    }

    /** One partition's state: its commit progress and the records read but not yet started. */
    private static final class Lane {
        final PartitionProgress progress = new PartitionProgress();
        final ArrayDeque<Entry> waiting = new ArrayDeque<>();
        volatile boolean revoked;
    }

    /** A record on its way: decoded (or why not), its attempts, and whether it is being dead-lettered. */
    private static final class Entry {
        final Lane lane;
        final ConsumerRecord<String, byte[]> record;
        final BufferedPush push;
        Throwable deadLetterReason;
        CompletableFuture<Void> permit;
        int attempts;
        boolean waitedForPermit;

        Entry(Lane lane, ConsumerRecord<String, byte[]> record) {
            this.lane = lane;
            this.record = record;
            BufferedPush decoded = null;
            try {
                decoded = BufferCodec.decode(record.value());
            } catch (BufferCodec.UnreadableRecordException e) {
                deadLetterReason = e;
            }
            this.push = decoded;
        }
    }

    private record Done(Entry entry, Throwable error) {
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
            thread.join(15_000);
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        retryTimer.shutdownNow();
        deadLetters.close();
        state = State.STOPPED;
    }
}
