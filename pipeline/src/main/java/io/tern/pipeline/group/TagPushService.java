package io.tern.pipeline.group;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.group.RecoveryConfig;
import io.tern.pipeline.kafka.BatchConsumer;
import io.tern.pipeline.kafka.ConsumerPolicy;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.redis.StoreFailures;
import io.tern.store.tag.TagChunk;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.JobRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Tag pushes. A resolver thread streams the expression's source tag in chunks (SSCAN, never a
 * whole set in memory), filters each chunk with batched membership checks against the other
 * tags, and publishes it as a job on Kafka; job consumers (every logic node, one group) fan each
 * job out through {@link GroupFanout}.
 * <p>
 * Resolution survives the node: the task holds its target, the source tags, the source index and
 * the SSCAN cursor after the last page whose jobs Kafka confirmed, and an owner lease in the
 * resolving index ({@code tern:tasks:resolving}) renewed every third of {@code logic.task-lease-ttl}.
 * When the owner stops renewing (crash, Redis or Kafka trouble), any node's sweeper takes the task
 * over and continues from the saved cursor; takeovers are bounded, then the task is failed with a
 * reason. A resumed resolution re-publishes at most the page that was in flight: each job carries an
 * id derived from its page's position, and a job already fanned out is skipped, so devices that
 * already acked are neither sent nor counted again (fan-out is at least once only inside one job).
 */
public final class TagPushService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TagPushService.class);

    private final TagRepository tags;
    private final TaskRepository tasks;
    private final GroupFanout fanout;
    private final KafkaProducer<String, byte[]> producer;
    private final ThreadPoolExecutor resolvers;
    private final ScheduledExecutorService leases;
    private final BatchConsumer jobs;
    private final int chunk;
    private final RecoveryConfig recovery;
    private final LongSupplier clock;
    private final String owner;
    /** This node's identity as a lease holder: a restarted node is a new owner. */
    private final String leaseOwner;
    /** Resolutions running on this node, whose leases it renews (bounded by the resolver pool). */
    private final Map<Long, Resolution> active = new ConcurrentHashMap<>();
    private final Counter published;
    private final Counter resumed;
    private final Counter failed;
    private volatile boolean closed;

    /**
     * @param maxQueuedResolutions tag pushes waiting for a resolver thread; beyond it the API answers 429
     */
    public TagPushService(TagRepository tags, TaskRepository tasks, GroupFanout fanout, String kafkaBootstrap,
                          String jobGroup, ConsumerPolicy consumerPolicy, int resolverThreads,
                          int maxQueuedResolutions, int chunk, RecoveryConfig recovery, LongSupplier clock,
                          MeterRegistry registry, String owner) {
        if (chunk < 1 || chunk > GroupFanout.MAX_CHUNK) {
            throw new IllegalArgumentException("chunk must be in [1, " + GroupFanout.MAX_CHUNK + "]");
        }
        this.tags = tags;
        this.tasks = tasks;
        this.fanout = fanout;
        this.chunk = chunk;
        this.recovery = recovery;
        this.clock = clock;
        this.owner = owner;
        this.leaseOwner = owner + ":" + UUID.randomUUID();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, owner + "-jobs");
        // Bounded: while Kafka is down a send fails within the 30 s the resolver waits, instead of hanging it.
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 25_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.resolvers = new ThreadPoolExecutor(resolverThreads, resolverThreads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(maxQueuedResolutions), r -> {
                    Thread t = new Thread(r, owner + "-tag-resolver");
                    t.setDaemon(true);
                    return t;
                });
        this.leases = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner + "-tag-leases");
            t.setDaemon(true);
            return t;
        });
        this.jobs = new BatchConsumer(kafkaBootstrap, jobGroup, owner, Topics.JOBS, 50, Duration.ofSeconds(60),
                consumerPolicy, BatchConsumer.eachRecord(this::runJob), StoreFailures::isUnavailable, registry,
                owner + "-job-consumer").start();
        this.published = Counter.builder("tern.push.tag.jobs").description("tag-push chunks published").register(registry);
        this.resumed = Counter.builder("tern.push.tag.resolutions").tag("outcome", "resumed")
                .description("tag resolutions taken over from a node whose lease ran out").register(registry);
        this.failed = Counter.builder("tern.push.tag.resolutions").tag("outcome", "failed")
                .description("tag resolutions failed (takeovers used up, or the task expired)").register(registry);
        Gauge.builder("tern.push.tag.resolving", active, Map::size)
                .description("tag resolutions running on this node").register(registry);
        long renew = Math.max(1, recovery.taskLeaseTtl().toMillis() / 3);
        leases.scheduleWithFixedDelay(this::renewLeases, renew, renew, TimeUnit.MILLISECONDS);
        leases.scheduleWithFixedDelay(this::sweep, recovery.taskSweep().toMillis(), recovery.taskSweep().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Records the tag push on the task (state resolving, under this node's lease), then resolves it
     * in the background; 429 when too many resolutions are queued, 409 when one is already running.
     */
    public CompletableFuture<Void> start(StoredTask task, TagExpression expression) {
        if (resolvers.getQueue().remainingCapacity() == 0) {
            return CompletableFuture.failedFuture(overloaded());
        }
        long taskId = task.body().taskId();
        return tasks.startResolving(taskId, new GroupTarget.TagTarget(expression).toJson(), leaseOwner, leaseEnd())
                .thenAccept(started -> {
                    switch (started) {
                        case ALREADY_RESOLVING -> throw new PushException(PushError.TASK_RESOLVING,
                                "task " + taskId + " is already being resolved; wait for it to finish", "taskId");
                        case UNKNOWN_OR_RECALLED -> throw new PushException(PushError.TASK_RECALLED,
                                "task " + taskId + " was recalled", "taskId");
                        case STARTED -> submit(new Resolution(taskId, task.body().appId(), expression, null, 0,
                                TagChunk.START));
                    }
                });
    }

    private static PushException overloaded() {
        return new PushException(PushError.OVERLOADED, "too many tag pushes being resolved; retry later", null, 1);
    }

    private long leaseEnd() {
        return clock.getAsLong() + recovery.taskLeaseTtl().toMillis();
    }

    private void submit(Resolution r) {
        try {
            resolvers.execute(() -> resolve(r));
        } catch (RejectedExecutionException e) {
            // Recorded already: hand it back so a sweeper (this node's or another's) runs it when there is room.
            tasks.abandonResolving(r.taskId, leaseOwner, "no resolver free", clock.getAsLong());
        }
    }

    public boolean jobsAssigned() {
        return jobs.assigned();
    }

    /** False while the job consumer is not consuming (for /health). */
    public boolean jobsConsuming() {
        return jobs.consuming();
    }

    /** Tag resolutions running on this node now. */
    public int resolving() {
        return active.size();
    }

    /** One resolution on this node: where it continues from, and whether its lease is still held. */
    private static final class Resolution {
        final long taskId;
        final String appId;
        final TagExpression expression;
        final String sources;
        final int sourceIndex;
        final String cursor;
        volatile boolean lost;

        Resolution(long taskId, String appId, TagExpression expression, String sources, int sourceIndex, String cursor) {
            this.taskId = taskId;
            this.appId = appId;
            this.expression = expression;
            this.sources = sources;
            this.sourceIndex = sourceIndex;
            this.cursor = cursor;
        }
    }

    private void resolve(Resolution r) {
        long taskId = r.taskId;
        String appId = r.appId;
        TagExpression e = r.expression;
        active.put(taskId, r);
        try {
            List<String> sources;
            if (r.sources != null) {
                sources = List.of(r.sources.split(","));
            } else if (!e.all().isEmpty()) {
                sources = List.of(smallest(appId, e.all()));
            } else {
                sources = e.any();
            }
            String sourceList = String.join(",", sources);
            long chunks = 0;
            for (int i = r.sourceIndex; i < sources.size(); i++) {
                String source = sources.get(i);
                List<String> earlier = e.all().isEmpty() ? sources.subList(0, i) : List.of();
                String cursor = i == r.sourceIndex ? r.cursor : TagChunk.START;
                TagChunk page;
                do {
                    if (r.lost || closed) {
                        log.info("[logic task={}] resolution stopped here (lease lost or node closing); another node resumes it",
                                taskId);
                        return;
                    }
                    page = tags.scan(appId, source, cursor, chunk).join();
                    List<String> kept = filter(appId, page.regIds(), source, earlier, e);
                    // SSCAN's count is a hint: a page may hold a few more than asked for.
                    List<Future<RecordMetadata>> sent = new ArrayList<>();
                    for (int from = 0, sub = 0; from < kept.size(); from += chunk, sub++) {
                        List<String> job = kept.subList(from, Math.min(kept.size(), from + chunk));
                        // Named by the page's position: the same page published again carries the same ids.
                        String jobId = i + "." + cursor + "." + sub;
                        sent.add(producer.send(new ProducerRecord<>(Topics.JOBS, Long.toString(taskId),
                                new JobRecord(appId, taskId, jobId, job).encode())));
                    }
                    for (Future<RecordMetadata> f : sent) {
                        f.get(30, TimeUnit.SECONDS);
                    }
                    published.increment(sent.size());
                    chunks += sent.size();
                    cursor = page.cursor();
                    // Saved only once the page's jobs are on Kafka.
                    TaskRepository.ResolveProgress progress = page.finished()
                            ? new TaskRepository.ResolveProgress(sourceList, i + 1, TagChunk.START, sent.size())
                            : new TaskRepository.ResolveProgress(sourceList, i, cursor, sent.size());
                    TaskRepository.Lease lease = tasks.renewResolving(taskId, leaseOwner, leaseEnd(), progress).join();
                    if (lease != TaskRepository.Lease.HELD) {
                        log.info("[logic task={}] resolution stopped: {}", taskId,
                                lease == TaskRepository.Lease.LOST ? "another node took it over" : "task recalled or gone");
                        return;
                    }
                } while (!page.finished());
            }
            if (tasks.finishResolving(taskId, leaseOwner, false, null).join()) {
                log.info("[logic task={}] tag expression {} resolved ({} jobs published here)", taskId, e, chunks);
            }
        } catch (Exception ex) {
            Throwable cause = ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
            String reason = closed ? "logic node " + owner + " stopped while resolving" : "resolution failed: " + cause;
            log.warn("[logic task={}] {}; handed back for another node to resume", taskId, reason);
            try {
                tasks.abandonResolving(taskId, leaseOwner, reason, clock.getAsLong()).join();
            } catch (RuntimeException again) {
                // Redis unreachable: the lease runs out by itself and a sweeper retries.
                log.debug("[logic task={}] could not hand back: {}", taskId, again.toString());
            }
        } finally {
            active.remove(taskId);
        }
    }

    /** Renews the leases of this node's running resolutions; one found lost stops at its next page. */
    private void renewLeases() {
        for (Resolution r : active.values()) {
            try {
                TaskRepository.Lease l = tasks.renewResolving(r.taskId, leaseOwner, leaseEnd(), null)
                        .get(recovery.taskLeaseTtl().toMillis(), TimeUnit.MILLISECONDS);
                if (l != TaskRepository.Lease.HELD) {
                    r.lost = true;
                }
            } catch (Exception e) {
                log.debug("[logic task={}] lease renewal failed: {}", r.taskId, e.toString());
            }
        }
    }

    /** Takes over resolutions whose owner's lease ran out, as many as this node has resolver room for. */
    void sweep() {
        if (closed) {
            return;
        }
        try {
            int room = Math.min(recovery.taskSweepMax(), resolvers.getQueue().remainingCapacity());
            if (room <= 0) {
                return;
            }
            for (long taskId : tasks.resolvingDue(clock.getAsLong(), room).join()) {
                TaskRepository.Claim c = tasks.claimResolving(taskId, clock.getAsLong(), leaseOwner, leaseEnd(),
                        recovery.resolveAttempts()).join();
                if (c.failedReason() != null) {
                    failed.increment();
                    log.error("[logic task={}] tag push failed: {}", taskId, c.failedReason());
                    continue;
                }
                if (c.resumed() == null) {
                    continue; // not due any more, or taken by another node's sweep
                }
                StoredTask task = tasks.find(taskId).join();
                if (task == null) {
                    continue;
                }
                TaskRepository.Resumed at = c.resumed();
                GroupTarget target = GroupTarget.fromJson(at.targetJson());
                if (!(target instanceof GroupTarget.TagTarget tag)) {
                    tasks.finishResolving(taskId, leaseOwner, true, "not a tag target: " + at.targetJson()).join();
                    continue;
                }
                resumed.increment();
                log.info("[logic task={}] resuming tag resolution of a node whose lease ran out (source {}, cursor {})",
                        taskId, at.sourceIndex(), at.cursor());
                submit(new Resolution(taskId, task.body().appId(), tag.expression(), at.sources(), at.sourceIndex(),
                        at.cursor()));
            }
        } catch (RuntimeException e) {
            log.warn("[logic {}] task sweep failed: {}", owner, e.toString());
        }
    }

    /** Keeps members that satisfy the expression and were not already taken from an earlier any-tag. */
    private List<String> filter(String appId, List<String> members, String source, List<String> earlier, TagExpression e) {
        List<String> kept = new ArrayList<>(members);
        for (String tag : earlier) {
            kept = retain(kept, tags.members(appId, tag, kept).join(), false);
        }
        for (String tag : e.all()) {
            if (!tag.equals(source)) {
                kept = retain(kept, tags.members(appId, tag, kept).join(), true);
            }
        }
        if (!e.all().isEmpty() && !e.any().isEmpty() && !kept.isEmpty()) {
            boolean[] inAny = new boolean[kept.size()];
            for (String tag : e.any()) {
                List<Boolean> m = tags.members(appId, tag, kept).join();
                for (int i = 0; i < inAny.length; i++) {
                    inAny[i] |= m.get(i);
                }
            }
            List<String> out = new ArrayList<>(kept.size());
            for (int i = 0; i < inAny.length; i++) {
                if (inAny[i]) {
                    out.add(kept.get(i));
                }
            }
            kept = out;
        }
        for (String tag : e.none()) {
            kept = retain(kept, tags.members(appId, tag, kept).join(), false);
        }
        return kept;
    }

    private static List<String> retain(List<String> regIds, List<Boolean> member, boolean keepMembers) {
        if (regIds.isEmpty()) {
            return regIds;
        }
        List<String> out = new ArrayList<>(regIds.size());
        for (int i = 0; i < regIds.size(); i++) {
            if (member.get(i) == keepMembers) {
                out.add(regIds.get(i));
            }
        }
        return out;
    }

    private String smallest(String appId, List<String> candidates) {
        String best = candidates.get(0);
        long bestSize = Long.MAX_VALUE;
        for (String t : candidates) {
            long n = tags.size(appId, t).join();
            if (n < bestSize) {
                best = t;
                bestSize = n;
            }
        }
        return best;
    }

    private CompletableFuture<?> runJob(ConsumerRecord<String, byte[]> r) {
        JobRecord job;
        try {
            job = JobRecord.decode(r.value());
        } catch (IllegalArgumentException e) {
            log.warn("[jobs] skipping malformed job at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            return CompletableFuture.completedFuture(null);
        }
        String jobId = job.jobId();
        CompletableFuture<Boolean> done = jobId == null ? CompletableFuture.completedFuture(false)
                : tasks.jobDone(job.taskId(), jobId);
        return done.thenCompose(skip -> skip ? CompletableFuture.completedFuture(null) : tasks.find(job.taskId()))
                .thenCompose(task -> {
                    if (task == null || task.state() == TaskState.RECALLED) {
                        return CompletableFuture.<Void>completedFuture(null); // done, recalled or gone: never send again
                    }
                    CompletableFuture<Void> sent = fanout.send(task, job.regIds()).thenApply(x -> null);
                    return jobId == null ? sent : sent.thenCompose(x -> tasks.markJobDone(job.taskId(), jobId));
                });
    }

    /**
     * Stops resolving here without finishing: resolutions in flight keep their saved cursor and
     * their lease runs out, then another node's sweeper resumes them.
     */
    @Override
    public void close() {
        closed = true;
        leases.shutdownNow();
        resolvers.shutdownNow();
        jobs.close();
        producer.close(Duration.ofSeconds(2));
    }
}
