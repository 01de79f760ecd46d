package io.tern.logic.schedule;

import io.tern.pipeline.group.ScheduledPushHandler;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.ScriptOutputType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.group.PushSchedule;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.impl.StdSchedulerFactory;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scheduled pushes: fires each task once at its sendAt, on one node, also across restarts.
 *
 * <p>The schedule lives in Redis, in one slot: ZSET {@link Keys#schedule()} (member taskId, score sendAt ms) and a
 * hash {@link Keys#scheduleEntry} (app, target, attempts, owner while being fired). Quartz (in-memory
 * RAMJobStore) only does the timing: each node arms triggers for the entries due within
 * {@code lookahead}, from its own {@link #schedule} calls and from a rescan of the ZSET on start and every
 * {@code rescan}, so entries written by another node or before a restart are picked up, and entries
 * already due fire at once.
 *
 * <p>When a trigger fires, the node takes a Redisson lock for the task without waiting, then claims the
 * entry atomically in one script: only an entry that is due can be claimed, and claiming moves its score
 * to now + claim lease, so no other node can claim it meanwhile. The handler runs; on success the entry is
 * deleted; on failure it is put back {@code retry-delay} later, up to {@code max-attempts} firings. A node
 * that dies mid-firing leaves a lease that expires, and another node fires the task again: at least once
 * across crashes, exactly once otherwise.
 */
public final class TaskScheduler implements PushSchedule, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TaskScheduler.class);
    public static final String SCHEDULE_KEY = Keys.schedule();
    /** A trigger may fire a few ms before its time; an entry counts as due within this much. */
    private static final long DUE_TOLERANCE_MS = 100;
    private static final AtomicLong INSTANCES = new AtomicLong();

    // KEYS: zset, hash. ARGV: taskId, sendAt, app, target, hash expire-at ms.
    private static final String PUT = """
            redis.call('DEL', KEYS[2])
            redis.call('HSET', KEYS[2], 'app', ARGV[3], 'target', ARGV[4], 'sendAt', ARGV[2], 'attempts', 0)
            redis.call('PEXPIREAT', KEYS[2], ARGV[5])
            redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
            return 1""";
    // ARGV: taskId, now (ms), lease-until (ms), max attempts, owner token.
    // -> {0} not claimable, {1, attempts, app, target} claimed, {2, attempts} given up (attempts used up).
    private static final String CLAIM = """
            local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
            if not score or tonumber(score) > tonumber(ARGV[2]) then return {0} end
            local h = redis.call('HMGET', KEYS[2], 'app', 'target', 'attempts')
            if not h[1] then
              redis.call('ZREM', KEYS[1], ARGV[1])
              return {0}
            end
            local attempts = tonumber(h[3] or '0')
            if attempts >= tonumber(ARGV[4]) then
              redis.call('ZREM', KEYS[1], ARGV[1])
              redis.call('DEL', KEYS[2])
              return {2, attempts}
            end
            redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
            redis.call('HSET', KEYS[2], 'attempts', attempts + 1, 'owner', ARGV[5])
            return {1, attempts + 1, h[1], h[2]}""";
    // ARGV: taskId, owner token. Deletes the entry if this firing still owns it.
    private static final String DONE = """
            if redis.call('HGET', KEYS[2], 'owner') ~= ARGV[2] then return 0 end
            redis.call('ZREM', KEYS[1], ARGV[1])
            redis.call('DEL', KEYS[2])
            return 1""";
    // ARGV: taskId, owner token, retry-at (ms). Puts the entry back if this firing still owns it.
    private static final String RETRY = """
            if redis.call('HGET', KEYS[2], 'owner') ~= ARGV[2] then return 0 end
            redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
            redis.call('HDEL', KEYS[2], 'owner')
            return 1""";
    // ARGV: taskId. 1 when the entry was waiting (not being fired) and is now gone.
    private static final String CANCEL = """
            local removed = redis.call('ZREM', KEYS[1], ARGV[1])
            local firing = redis.call('HEXISTS', KEYS[2], 'owner')
            redis.call('DEL', KEYS[2])
            if removed == 1 and firing == 0 then return 1 end
            return 0""";

    private final ScheduleConfig config;
    private final RedisStore redis;
    private final RedissonClient redisson;
    private final ScheduledPushHandler handler;
    private final PeakFloors peaks;
    private final String owner;
    private final String nodeToken = UUID.randomUUID().toString();
    private final AtomicLong firings = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    /** taskId -> fire time of its armed trigger; bounded by {@code maxArmed}. */
    private final Map<Long, Long> armed = new ConcurrentHashMap<>();
    private final Scheduler quartz;
    private final ScheduledExecutorService rescanner;
    private final ExecutorService fireExecutor;
    private final Counter fired;
    private final Counter failed;
    private final Counter givenUp;
    private final Counter skipped;
    private volatile boolean closed;

    /** @param peaks raises the bypass consumers' replica floor ahead of large scheduled pushes */
    public TaskScheduler(ScheduleConfig config, RedisStore redis, RedissonClient redisson, ScheduledPushHandler handler,
                         PeakFloors peaks, MeterRegistry registry, String owner) {
        this.config = config;
        this.redis = redis;
        this.redisson = redisson;
        this.handler = handler;
        this.peaks = peaks;
        this.owner = owner;
        this.rescanner = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, owner + "-schedule-rescan"));
        // Redis and Redisson complete futures on their I/O threads: the handler runs here instead.
        this.fireExecutor = Executors.newFixedThreadPool(2, new java.util.concurrent.ThreadFactory() {
            private final AtomicInteger n = new AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
                return daemon(r, owner + "-schedule-fire-" + n.incrementAndGet());
            }
        });
        this.quartz = newQuartz(owner);
        this.fired = Counter.builder("tern.schedule.firings").tag("outcome", "fired")
                .description("scheduled tasks handed to the push handler successfully").register(registry);
        this.failed = Counter.builder("tern.schedule.firings").tag("outcome", "failed")
                .description("firings whose handler failed or timed out (retried while attempts remain)").register(registry);
        this.givenUp = Counter.builder("tern.schedule.firings").tag("outcome", "given-up")
                .description("scheduled tasks dropped after max-attempts firings").register(registry);
        this.skipped = Counter.builder("tern.schedule.firings").tag("outcome", "skipped")
                .description("triggers that found the task locked, claimed or cancelled elsewhere").register(registry);
        Gauge.builder("tern.schedule.armed", armed, Map::size)
                .description("Quartz triggers armed on this node").register(registry);
    }

    private Scheduler newQuartz(String owner) {
        Properties p = new Properties();
        // Quartz keeps schedulers in a JVM-wide registry by name: each instance needs its own.
        p.setProperty("org.quartz.scheduler.instanceName", "tern-schedule-" + owner + "-" + INSTANCES.incrementAndGet());
        p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
        p.setProperty("org.quartz.scheduler.makeSchedulerThreadDaemon", "true");
        p.setProperty("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
        p.setProperty("org.quartz.threadPool.threadCount", "2");
        p.setProperty("org.quartz.threadPool.makeThreadsDaemons", "true");
        p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
        p.setProperty("org.quartz.jobStore.misfireThreshold", "1000");
        try {
            Scheduler s = new StdSchedulerFactory(p).getScheduler();
            // Jobs only hand the firing over; the work is async (Redis, then the handler).
            s.setJobFactory((bundle, sch) -> ctx -> onTrigger(
                    ctx.getMergedJobDataMap().getLong("taskId"), ctx.getMergedJobDataMap().getLong("fireAt")));
            return s;
        } catch (SchedulerException e) {
            throw new IllegalStateException("cannot create the Quartz scheduler", e);
        }
    }

    /** Starts timing, then loads the schedule from Redis at once and every {@code rescan}. */
    public TaskScheduler start() {
        try {
            quartz.start();
        } catch (SchedulerException e) {
            throw new IllegalStateException("cannot start the Quartz scheduler", e);
        }
        rescanner.scheduleWithFixedDelay(this::rescan, 0, config.rescan().toMillis(), TimeUnit.MILLISECONDS);
        log.info("[schedule {}] started (rescan {}, lookahead {})", owner, config.rescan(), config.lookahead());
        return this;
    }

    public static String entryKey(long taskId) {
        return Keys.scheduleEntry(taskId);
    }

    static String lockKey(long taskId) {
        return Keys.scheduleLock(taskId);
    }

    /**
     * Stores the task's firing durably (replacing an earlier schedule of the same task) and arms it when
     * it is due soon. A sendAt in the past fires at once. A large target also gets its replica floor
     * ({@link PeakFloors}) before the returned future completes.
     *
     * @param targetJson what to push to (opaque here; handed back to the handler)
     * @return done once the entry is in Redis; fails with a {@link PushError#INVALID_FIELD} (field {@code sendAt})
     *         when sendAt is more than {@code max-ahead} from now
     */
    public CompletableFuture<Void> schedule(long taskId, String appId, long sendAtMillis, String targetJson) {
        long now = System.currentTimeMillis();
        if (sendAtMillis > now + config.maxAhead().toMillis()) {
            return CompletableFuture.failedFuture(PushException.invalid("sendAt",
                    "sendAt must be at most " + config.maxAhead().toDays() + " days ahead"));
        }
        if (appId == null || targetJson == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("appId and targetJson are required"));
        }
        long expireAt = Math.max(sendAtMillis, now) + config.maxAhead().toMillis() + config.claimLease().toMillis();
        return redis.async().<Long>eval(PUT, ScriptOutputType.INTEGER, new String[]{SCHEDULE_KEY, entryKey(taskId)},
                        Long.toString(taskId), Long.toString(sendAtMillis), appId, targetJson, Long.toString(expireAt))
                .toCompletableFuture()
                .thenCompose(x -> redis.replicated(SCHEDULE_KEY, entryKey(taskId)))
                .thenAccept(x -> {
                    log.debug("[schedule {} task={}] scheduled at {}", owner, taskId, sendAtMillis);
                    if (sendAtMillis <= System.currentTimeMillis() + config.lookahead().toMillis()) {
                        arm(taskId, sendAtMillis);
                    }
                })
                .thenCompose(x -> peaks.scheduled(taskId, appId, sendAtMillis, targetJson));
    }

    /**
     * Removes a scheduled task (recall).
     *
     * @return true when the task was waiting and will now never fire; false when it was unknown, already
     *         fired, or being fired right now (then the recall of its copies has to stop it)
     */
    public CompletableFuture<Boolean> cancel(long taskId) {
        return redis.async().<Long>eval(CANCEL, ScriptOutputType.INTEGER, new String[]{SCHEDULE_KEY, entryKey(taskId)},
                        Long.toString(taskId))
                .toCompletableFuture()
                .thenApply(n -> {
                    disarm(taskId);
                    return n == 1L;
                })
                .thenCompose(waiting -> peaks.cancelled(taskId).thenApply(x -> waiting));
    }

    /** Triggers armed on this node (for tests and the gauge). */
    public int armed() {
        return armed.size();
    }

    private void arm(long taskId, long fireAt) {
        if (closed) {
            return;
        }
        Long prev = armed.get(taskId);
        if (prev != null && prev == fireAt) {
            return;
        }
        if (prev == null && armed.size() >= config.maxArmed()) {
            return; // a later rescan arms it
        }
        armed.put(taskId, fireAt);
        JobDetail job = JobBuilder.newJob(FireJob.class).withIdentity(jobKey(taskId))
                .usingJobData("taskId", taskId).usingJobData("fireAt", fireAt).build();
        Trigger trigger = TriggerBuilder.newTrigger().withIdentity("task-" + taskId)
                .startAt(new Date(Math.max(fireAt, System.currentTimeMillis())))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow())
                .build();
        try {
            quartz.scheduleJob(job, Set.of(trigger), true);
        } catch (SchedulerException e) {
            armed.remove(taskId, fireAt);
            if (!closed) {
                log.warn("[schedule {} task={}] cannot arm trigger (next rescan retries): {}", owner, taskId, e.toString());
            }
        }
    }

    private void disarm(long taskId) {
        armed.remove(taskId);
        try {
            quartz.deleteJob(jobKey(taskId));
        } catch (SchedulerException e) {
            log.debug("[schedule {} task={}] cannot delete trigger: {}", owner, taskId, e.toString());
        }
    }

    private static JobKey jobKey(long taskId) {
        return JobKey.jobKey("task-" + taskId);
    }

    /** Arms every entry due within the lookahead (oldest first, at most {@code maxArmed}). */
    private void rescan() {
        if (closed) {
            return;
        }
        long horizon = System.currentTimeMillis() + config.lookahead().toMillis();
        try {
            List<ScoredValue<String>> due = redis.async()
                    .zrangebyscoreWithScores(SCHEDULE_KEY, Range.from(Range.Boundary.unbounded(), Range.Boundary.including(horizon)),
                            Limit.create(0, config.maxArmed()))
                    .toCompletableFuture().get(config.rescan().toMillis() + 5_000, TimeUnit.MILLISECONDS);
            for (ScoredValue<String> e : due) {
                long taskId;
                try {
                    taskId = Long.parseLong(e.getValue());
                } catch (NumberFormatException bad) {
                    log.warn("[schedule {}] ignoring bad schedule member '{}'", owner, e.getValue());
                    continue;
                }
                arm(taskId, (long) e.getScore());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Redis away: keep the triggers we have, try again next round.
            log.warn("[schedule {}] rescan failed: {}", owner, e.toString());
        }
    }

    private void onTrigger(long taskId, long fireAt) {
        armed.remove(taskId, fireAt);
        if (closed) {
            return;
        }
        long firing = firings.incrementAndGet();
        String token = nodeToken + ":" + firing;
        RLock lock = redisson.getLock(lockKey(taskId));
        inFlight.incrementAndGet();
        lock.tryLockAsync(0, config.claimLease().toMillis(), TimeUnit.MILLISECONDS, firing).toCompletableFuture()
                .thenComposeAsync(got -> {
                    if (!got) {
                        skipped.increment();
                        log.debug("[schedule {} task={}] locked by another node", owner, taskId);
                        return CompletableFuture.completedFuture(null);
                    }
                    return claimAndFire(taskId, token)
                            .whenComplete((x, e) -> lock.unlockAsync(firing));
                }, fireExecutor)
                .whenComplete((x, e) -> {
                    inFlight.decrementAndGet();
                    if (e != null && !closed) {
                        // Redis trouble: the entry stays in the ZSET (or its lease runs out); a rescan retries.
                        log.warn("[schedule {} task={}] firing failed: {}", owner, taskId, e.toString());
                    }
                });
    }

    private CompletableFuture<Void> claimAndFire(long taskId, String token) {
        long now = System.currentTimeMillis();
        return redis.async().<List<Object>>eval(CLAIM, ScriptOutputType.MULTI, new String[]{SCHEDULE_KEY, entryKey(taskId)},
                        Long.toString(taskId), Long.toString(now + DUE_TOLERANCE_MS),
                        Long.toString(now + config.claimLease().toMillis()), Integer.toString(config.maxAttempts()), token)
                .toCompletableFuture()
                .thenComposeAsync(r -> {
                    long kind = (Long) r.get(0);
                    if (kind == 0L) {
                        skipped.increment();
                        return CompletableFuture.completedFuture(null);
                    }
                    int attempts = ((Long) r.get(1)).intValue();
                    if (kind == 2L) {
                        givenUp.increment();
                        log.error("[schedule {} task={}] given up after {} firings that did not finish", owner, taskId, attempts);
                        return handler.givenUp(taskId, "scheduled push given up after " + attempts
                                + " firings that did not finish");
                    }
                    return fire(taskId, (String) r.get(2), (String) r.get(3), attempts, token);
                }, fireExecutor);
    }

    private CompletableFuture<Void> fire(long taskId, String appId, String targetJson, int attempts, String token) {
        log.info("[schedule {} task={} app={}] firing (attempt {})", owner, taskId, appId, attempts);
        CompletableFuture<Void> pushed;
        try {
            pushed = handler.fire(taskId, appId, targetJson);
        } catch (RuntimeException e) {
            pushed = CompletableFuture.failedFuture(e);
        }
        return pushed.toCompletableFuture()
                .orTimeout(config.fireTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .handle((x, err) -> err)
                .thenCompose(err -> {
                    if (err == null) {
                        fired.increment();
                        return script(DONE, taskId, token).thenApply(n -> (Void) null);
                    }
                    failed.increment();
                    if (attempts >= config.maxAttempts()) {
                        givenUp.increment();
                        log.error("[schedule {} task={} app={}] push failed on attempt {}, giving up: {}", owner, taskId,
                                appId, attempts, err.toString());
                        return script(DONE, taskId, token).thenCompose(n -> handler.givenUp(taskId,
                                "scheduled push failed " + attempts + " times: " + err));
                    }
                    long retryAt = System.currentTimeMillis() + config.retryDelay().toMillis();
                    log.warn("[schedule {} task={} app={}] push failed on attempt {}; retrying in {}: {}", owner, taskId,
                            appId, attempts, config.retryDelay(), err.toString());
                    return script(RETRY, taskId, token, Long.toString(retryAt)).thenAccept(n -> {
                        if (n == 1L) {
                            arm(taskId, retryAt);
                        }
                    });
                });
    }

    private CompletableFuture<Long> script(String source, long taskId, String token, String... more) {
        String[] args = new String[2 + more.length];
        args[0] = Long.toString(taskId);
        args[1] = token;
        System.arraycopy(more, 0, args, 2, more.length);
        return redis.async().<Long>eval(source, ScriptOutputType.INTEGER, new String[]{SCHEDULE_KEY, entryKey(taskId)}, args)
                .toCompletableFuture();
    }

    /**
     * Stops arming and firing. Firings under way get up to {@code fire-timeout} to finish; one cut short
     * keeps its claim until the lease runs out, then another node fires it. Does not close Redis or Redisson.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        rescanner.shutdownNow();
        try {
            quartz.shutdown(false);
        } catch (SchedulerException e) {
            log.debug("[schedule {}] Quartz shutdown: {}", owner, e.toString());
        }
        long deadline = System.nanoTime() + config.fireTimeout().toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        fireExecutor.shutdown();
        armed.clear();
        log.info("[schedule {}] stopped", owner);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Placeholder class for Quartz's JobDetail; the job factory supplies the actual job. */
    public static final class FireJob implements Job {
        @Override
        public void execute(org.quartz.JobExecutionContext context) {
            throw new IllegalStateException("created without the scheduler's job factory");
        }
    }
}
