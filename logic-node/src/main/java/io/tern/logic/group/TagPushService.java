package io.tern.logic.group;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.logic.kafka.BatchConsumer;
import io.tern.logic.kafka.ConsumerPolicy;
import io.tern.runtime.http.ApiException;
import io.tern.store.redis.RedisFailures;
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
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Tag pushes. A resolver thread streams the expression's source tag in chunks (SSCAN, never a
 * whole set in memory), filters each chunk with batched membership checks against the other
 * tags, and publishes it as a job on Kafka; job consumers (every logic node, one group) fan each
 * job out through {@link GroupFanout}. Resolution and fan-out are at least once: a replayed job
 * re-queues copies the device queue already holds and is not counted twice as delivered.
 */
public final class TagPushService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TagPushService.class);

    private final TagRepository tags;
    private final TaskRepository tasks;
    private final GroupFanout fanout;
    private final KafkaProducer<String, byte[]> producer;
    private final ThreadPoolExecutor resolvers;
    private final BatchConsumer jobs;
    private final int chunk;
    private final Counter published;

    /**
     * @param maxQueuedResolutions tag pushes waiting for a resolver thread; beyond it the API answers 429
     */
    public TagPushService(TagRepository tags, TaskRepository tasks, GroupFanout fanout, String kafkaBootstrap,
                          String jobGroup, ConsumerPolicy consumerPolicy, int resolverThreads, int maxQueuedResolutions,
                          int chunk, MeterRegistry registry, String owner) {
        if (chunk < 1 || chunk > GroupFanout.MAX_CHUNK) {
            throw new IllegalArgumentException("chunk must be in [1, " + GroupFanout.MAX_CHUNK + "]");
        }
        this.tags = tags;
        this.tasks = tasks;
        this.fanout = fanout;
        this.chunk = chunk;
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
        this.jobs = new BatchConsumer(kafkaBootstrap, jobGroup, owner, Topics.JOBS, 50, Duration.ofSeconds(60),
                consumerPolicy, BatchConsumer.eachRecord(this::runJob), RedisFailures::unreachable, registry,
                owner + "-job-consumer").start();
        this.published = Counter.builder("tern.push.tag.jobs").description("tag-push chunks published").register(registry);
    }

    /** Starts resolving in the background; 429 when too many resolutions are queued. */
    public void start(StoredTask task, TagExpression expression) {
        try {
            resolvers.execute(() -> resolve(task, expression));
        } catch (RejectedExecutionException e) {
            throw new ApiException(429, "overloaded", "too many tag pushes being resolved; retry later", null);
        }
    }

    public boolean jobsAssigned() {
        return jobs.assigned();
    }

    /** False while the job consumer is not consuming (for /health). */
    public boolean jobsConsuming() {
        return jobs.consuming();
    }

    private void resolve(StoredTask task, TagExpression e) {
        long taskId = task.body().taskId();
        String appId = task.body().appId();
        try {
            tasks.setState(taskId, TaskState.SENDING).join();
            List<String> sources;
            if (!e.all().isEmpty()) {
                sources = List.of(smallest(appId, e.all()));
            } else {
                sources = e.any();
            }
            long chunks = 0;
            for (int i = 0; i < sources.size(); i++) {
                String source = sources.get(i);
                List<String> earlier = e.all().isEmpty() ? sources.subList(0, i) : List.of();
                String cursor = TagChunk.START;
                TagChunk page;
                do {
                    page = tags.scan(appId, source, cursor, chunk).join();
                    cursor = page.cursor();
                    List<String> kept = filter(appId, page.regIds(), source, earlier, e);
                    // SSCAN's count is a hint: a page may hold a few more than asked for.
                    for (int from = 0; from < kept.size(); from += chunk) {
                        List<String> job = kept.subList(from, Math.min(kept.size(), from + chunk));
                        producer.send(new ProducerRecord<>(Topics.JOBS, Long.toString(taskId),
                                new JobRecord(appId, taskId, job).encode())).get(30, TimeUnit.SECONDS);
                        published.increment();
                        chunks++;
                    }
                } while (!page.finished());
            }
            log.info("[logic task={}] tag expression {} resolved into {} jobs", taskId, e, chunks);
        } catch (Exception ex) {
            log.warn("[logic task={}] resolving tags failed: {}", taskId, ex.toString());
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
        return tasks.find(job.taskId()).thenCompose(task -> {
            if (task == null || task.state() == TaskState.RECALLED) {
                return CompletableFuture.completedFuture(null); // recalled: never send again
            }
            return fanout.send(task, job.regIds());
        });
    }

    @Override
    public void close() {
        resolvers.shutdownNow();
        jobs.close();
        producer.close(Duration.ofSeconds(2));
    }
}
