package io.tern.logic.callback;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.logic.auth.AppCredentials;
import io.tern.logic.auth.Hmac;
import io.tern.logic.receipt.ReceiptListener;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.callback.ParkedReceipt;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Posts receipts to app servers' callback URLs as signed JSON batches.
 *
 * <p>Receipts are grouped per (appId, callback URL) into batches of at most {@code batchMax}, posted
 * when full or after {@code linger}. Body:
 * <pre>{"appId":"..","receipts":[{"id":"<msgId|taskId>","type":"message"|"task","regId":"..","param":"..","ackedAt":ms}]}</pre>
 * with headers {@code X-Tern-App} and {@code X-Tern-Signature} (lowercase hex HMAC-SHA256 of the exact
 * body bytes, keyed with the app's secret). A 2xx finishes the batch; anything else (status, timeout,
 * refused connection) re-posts the same bytes after an exponential, jittered backoff, up to
 * {@code maxAttempts}; then every receipt of the batch counts as a failed callback.
 *
 * <p>Isolation: each URL has its own batches and its own {@code concurrency} in-flight slots, and
 * retries wait on a timer, never on a shared thread, so a dead app server only delays its own receipts.
 *
 * <p>Durable hand-off: the script run that records an ack parks its receipt in the Redis {@link CallbackOutbox}
 * ({@code AckRepository.applyAll}), and {@link #parked} hands it here to post; a receipt leaves the outbox once
 * posted or given up on. A node holds at most {@code queueCapacity} receipts in memory, leased in the outbox
 * (renewed on each retry); what does not fit, what a stopping node gives back and what a dead node held (once
 * its lease runs out) is claimed by any node's sweep. A full outbox leaves acks unapplied: they wait in Kafka.
 * Callbacks are at least once: a receipt can be posted twice when its node dies after the POST and before
 * removing it.
 */
public final class CallbackDispatcher implements ReceiptListener, AutoCloseable {
    private static final ObjectMapper CALLBACK_JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(CallbackDispatcher.class);
    public static final String APP_HEADER = "X-Tern-App";
    public static final String SIGNATURE_HEADER = "X-Tern-Signature";
    /** Parked receipts one sweep takes at most. */
    private static final int SWEEP_MAX = 1000;

    private final CallbackConfig config;
    private final Function<String, String> secrets;
    private final TaskRepository tasks;
    private final String owner;
    private final Semaphore room;
    private final Object lock = new Object();
    private final Map<Destination.Key, Destination> destinations = new HashMap<>(); // guarded by lock
    private final ScheduledThreadPoolExecutor timer;
    private final ExecutorService httpExecutor;
    private final HttpClient http;
    private final CallbackUrlGuard guard;
    private final Counter posted;
    private final Counter failed;
    private final Counter abandoned;
    private final Counter retries;
    private final Counter claimed;
    private final CallbackOutbox outbox;
    private final LongSupplier clock;
    /** Outbox ids of the receipts this node holds in memory. */
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile boolean closed;
    private volatile boolean stopped;

    /** With the apps of {@code LogicConfig.apps()}: receipts are signed with each app's secret. */
    public CallbackDispatcher(CallbackConfig config, Map<String, AppCredentials> apps, TaskRepository tasks,
                              CallbackOutbox outbox, CallbackUrlGuard guard, LongSupplier clock, MeterRegistry registry,
                              String owner) {
        this(config, appId -> {
            AppCredentials c = apps.get(appId);
            return c == null ? null : c.appSecret();
        }, tasks, outbox, guard, clock, registry, owner);
    }

    /**
     * @param secrets appId to its signing secret, or null for an unknown app (its receipts fail)
     * @param guard   checks each URL again right before every POST (its DNS answer may have changed)
     */
    public CallbackDispatcher(CallbackConfig config, Function<String, String> secrets, TaskRepository tasks,
                              CallbackOutbox outbox, CallbackUrlGuard guard, LongSupplier clock, MeterRegistry registry,
                              String owner) {
        this.config = config;
        this.outbox = outbox;
        this.clock = clock;
        this.guard = guard;
        this.secrets = secrets;
        this.tasks = tasks;
        this.owner = owner;
        this.room = new Semaphore(config.queueCapacity());
        this.timer = new ScheduledThreadPoolExecutor(1, daemon(owner + "-callback-timer"));
        // Cancelled linger timers would otherwise stay queued until they were due.
        this.timer.setRemoveOnCancelPolicy(true);
        this.httpExecutor = Executors.newFixedThreadPool(2, daemon(owner + "-callback-http"));
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.requestTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(httpExecutor)
                .build();
        this.posted = Counter.builder("tern.callbacks.receipts").tag("outcome", "posted")
                .description("receipts accepted (2xx) by the app's callback URL").register(registry);
        this.failed = Counter.builder("tern.callbacks.receipts").tag("outcome", "failed")
                .description("receipts given up after every attempt").register(registry);
        this.abandoned = Counter.builder("tern.callbacks.receipts").tag("outcome", "abandoned")
                .description("receipts still held when the node stopped: given back to the outbox for any node")
                .register(registry);
        this.claimed = Counter.builder("tern.callbacks.claimed")
                .description("parked receipts taken from the outbox (another node's, given back, or over capacity)")
                .register(registry);
        this.retries = Counter.builder("tern.callbacks.retries")
                .description("batches posted again after a failed attempt").register(registry);
        Gauge.builder("tern.callbacks.pending", this, CallbackDispatcher::pending)
                .description("receipts held: queued, batched, in flight or awaiting a retry").register(registry);
        Gauge.builder("tern.callbacks.destinations", this, CallbackDispatcher::destinationCount)
                .description("callback URLs with receipts held").register(registry);
        long sweep = config.outbox().sweepInterval().toMillis();
        timer.scheduleWithFixedDelay(this::sweep, sweep, sweep, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes receipts the ack script just parked (leased to this node) into memory to post them; what does not fit
     * is given back to the outbox at once. Never blocks.
     */
    @Override
    public void parked(List<ParkedReceipt> receipts) {
        try {
            timer.execute(() -> take(receipts));
        } catch (RejectedExecutionException e) {
            // Stopping: they stay parked and any node takes them once their lease ran out.
        }
    }

    /** Holds what fits in memory and starts posting it; gives the rest back to the outbox at once. */
    private void take(List<ParkedReceipt> parked) {
        List<String> noRoom = new ArrayList<>();
        for (ParkedReceipt p : parked) {
            if (closed || !room.tryAcquire()) {
                noRoom.add(p.id());
                continue;
            }
            if (!held.add(p.id())) {
                room.release(); // held here already (claimed again after its lease ran out): posted once from memory
                continue;
            }
            hold(p);
        }
        if (!noRoom.isEmpty()) {
            giveBack(noRoom);
        }
    }

    private void hold(ParkedReceipt p) {
        Item item = new Item(p.targetId(), p.task(), p.regId(), p.param(), p.ackedAtMillis());
        List<Batch> toSend;
        synchronized (lock) {
            Destination.Key key = new Destination.Key(p.appId(), p.url());
            Destination d = destinations.computeIfAbsent(key, Destination::new);
            d.open.add(item);
            if (d.open.size() >= config.batchMax()) {
                cut(d);
            } else if (d.open.size() == 1) {
                d.linger = scheduleOrNull(() -> flush(key), config.linger().toMillis());
            }
            toSend = pump(d);
        }
        sendAll(toSend);
    }

    /** Takes parked receipts that are due (their node died, gave them back, or had no room) while there is room. */
    private void sweep() {
        int n = Math.min(room.availablePermits(), SWEEP_MAX);
        if (closed || n <= 0 || !sweeping.compareAndSet(false, true)) {
            return;
        }
        long now = clock.getAsLong();
        // Never waits on the timer thread: it also runs linger flushes and retries.
        outbox.claim(now, now + config.outbox().lease().toMillis(), n)
                .thenAcceptAsync(due -> {
                    if (!due.isEmpty()) {
                        claimed.increment(due.size());
                        take(due);
                    }
                }, timer)
                .whenComplete((v, e) -> {
                    sweeping.set(false);
                    if (e != null) {
                        log.debug("[callbacks {}] outbox sweep failed: {}", owner, e.toString());
                    }
                });
    }

    /** Due at once for any node (this one included, once it has room). */
    private void giveBack(List<String> ids) {
        outbox.reschedule(ids, clock.getAsLong()).exceptionally(e -> {
            log.warn("[callbacks {}] could not give {} receipts back to the outbox (they are taken after their lease): {}",
                    owner, ids.size(), e.toString());
            return null;
        });
    }

    private static List<String> ids(Batch b) {
        List<String> ids = new ArrayList<>(b.items.size());
        for (Item i : b.items) {
            ids.add(ParkedReceipt.idOf(b.dest.key.appId(), i.id(), i.task(), i.regId()));
        }
        return ids;
    }

    /** Receipts held now (queued, batched, in flight, awaiting a retry). */
    public int pending() {
        return config.queueCapacity() - room.availablePermits();
    }

    private int destinationCount() {
        synchronized (lock) {
            return destinations.size();
        }
    }

    private void flush(Destination.Key key) {
        List<Batch> toSend;
        synchronized (lock) {
            Destination d = destinations.get(key);
            if (d == null || d.open.isEmpty()) {
                return;
            }
            cut(d);
            toSend = pump(d);
        }
        sendAll(toSend);
    }

    /** Closes the open batch of {@code d} (under lock). */
    private void cut(Destination d) {
        if (d.linger != null) {
            d.linger.cancel(false);
            d.linger = null;
        }
        d.ready.add(new Batch(d, List.copyOf(d.open)));
        d.open.clear();
    }

    /** Takes the batches that may start now within the URL's in-flight limit (under lock). */
    private List<Batch> pump(Destination d) {
        List<Batch> out = null;
        while (d.inFlight < config.concurrency() && !d.ready.isEmpty()) {
            d.inFlight++;
            if (out == null) {
                out = new ArrayList<>(2);
            }
            out.add(d.ready.poll());
        }
        if (d.idle()) {
            destinations.remove(d.key, d);
        }
        return out == null ? List.of() : out;
    }

    private void sendAll(List<Batch> batches) {
        for (Batch b : batches) {
            send(b);
        }
    }

    private void send(Batch b) {
        if (b.body == null) {
            String secret = secrets.apply(b.dest.key.appId());
            if (secret == null) {
                log.warn("[callbacks {} app={} url={}] no secret for app; {} receipts count as failed", owner,
                        b.dest.key.appId(), b.dest.shown, b.items.size());
                finish(b, Outcome.FAILED);
                return;
            }
            try {
                b.body = body(b.dest.key.appId(), b.items);
            } catch (IOException e) {
                log.warn("[callbacks {} app={}] cannot serialise receipts; counted as failed", owner, b.dest.key.appId(), e);
                finish(b, Outcome.FAILED);
                return;
            }
            b.signature = sign(secret, b.body);
        }
        b.attempts++;
        // Checked before every attempt, off this thread when DNS is needed: the name may point inside by now.
        guard.check(b.dest.key.url())
                .thenCompose(uri -> http.sendAsync(request(b, uri), HttpResponse.BodyHandlers.discarding()))
                .whenComplete((resp, err) -> {
                    Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                    if (cause instanceof CallbackUrlGuard.RefusedException refused) {
                        log.warn("[callbacks {} app={} url={}] refused: {}; {} receipts count as failed", owner,
                                b.dest.key.appId(), b.dest.shown, refused.getMessage(), b.items.size());
                        finish(b, Outcome.FAILED);
                        return;
                    }
                    onResult(b, resp == null ? -1 : resp.statusCode(), cause);
                });
    }

    private HttpRequest request(Batch b, URI uri) {
        return HttpRequest.newBuilder(uri)
                .timeout(config.requestTimeout())
                .header("Content-Type", "application/json")
                .header(APP_HEADER, b.dest.key.appId())
                .header(SIGNATURE_HEADER, b.signature)
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.body))
                .build();
    }

    private void onResult(Batch b, int status, Throwable err) {
        if (err == null && status >= 200 && status < 300) {
            finish(b, Outcome.POSTED);
            return;
        }
        String why = err != null ? err.toString() : "HTTP " + status;
        if (closed) {
            log.warn("[callbacks {} app={} url={}] stopping: {} receipts not posted after {} attempts: {}", owner,
                    b.dest.key.appId(), b.dest.shown, b.items.size(), b.attempts, why);
            finish(b, Outcome.ABANDONED);
            return;
        }
        if (b.attempts >= config.maxAttempts()) {
            log.warn("[callbacks {} app={} url={}] giving up on {} receipts after {} attempts: {}", owner,
                    b.dest.key.appId(), b.dest.shown, b.items.size(), b.attempts, why);
            finish(b, Outcome.FAILED);
            return;
        }
        long delay = backoffMillis(b.attempts);
        log.debug("[callbacks {} app={} url={}] attempt {} failed ({}); retrying in {} ms", owner,
                b.dest.key.appId(), b.dest.shown, b.attempts, why, delay);
        retries.increment();
        renewLease(b, delay);
        // The batch keeps its in-flight slot while it waits: a failing URL gets no new POSTs meanwhile.
        if (scheduleOrNull(() -> send(b), delay) == null) {
            finish(b, Outcome.ABANDONED);
        }
    }

    /** A batch waiting to be retried stays ours: no other node takes its receipts meanwhile. */
    private void renewLease(Batch b, long delayMillis) {
        outbox.reschedule(ids(b), clock.getAsLong() + delayMillis + config.outbox().lease().toMillis())
                .exceptionally(e -> null); // at worst another node posts them too: at least once
    }

    /** Equal jitter: half the exponential delay, plus a random part of the other half. */
    long backoffMillis(int attemptsSoFar) {
        long base = config.backoffInitial().toMillis();
        long max = config.backoffMax().toMillis();
        long d = attemptsSoFar >= 62 ? max : Math.min(max, base << Math.min(attemptsSoFar - 1, 40));
        long half = d / 2;
        return half + ThreadLocalRandom.current().nextLong(d - half + 1);
    }

    private enum Outcome { POSTED, FAILED, ABANDONED }

    private void finish(Batch b, Outcome outcome) {
        if (stopped) {
            return; // close() already counted what was left
        }
        int n = b.items.size();
        switch (outcome) {
            case POSTED -> posted.increment(n);
            case FAILED -> failed.increment(n);
            default -> abandoned.increment(n);
        }
        List<String> ids = ids(b);
        ids.forEach(held::remove);
        if (outcome != Outcome.ABANDONED) {
            countOnTasks(b.items, outcome == Outcome.POSTED ? TaskCounter.CALLBACK_SENT : TaskCounter.CALLBACK_FAILED);
            outbox.remove(ids).exceptionally(e -> {
                log.warn("[callbacks {}] could not remove {} finished receipts from the outbox; they may be posted again: {}",
                        owner, ids.size(), e.toString());
                return null;
            });
        } else {
            giveBack(ids);
        }
        room.release(n);
        List<Batch> toSend;
        synchronized (lock) {
            b.dest.inFlight--;
            toSend = pump(b.dest);
        }
        sendAll(toSend);
    }

    private void countOnTasks(List<Item> items, TaskCounter counter) {
        Map<Long, Long> perTask = new HashMap<>();
        for (Item i : items) {
            if (i.task()) {
                perTask.merge(i.id(), 1L, Long::sum);
            }
        }
        perTask.forEach((taskId, count) -> tasks.increment(taskId, Map.of(counter, count)).exceptionally(e -> {
            log.warn("[callbacks {} task={}] could not count {} {}: {}", owner, taskId, count, counter.wireName(), e.toString());
            return null;
        }));
    }

    private ScheduledFuture<?> scheduleOrNull(Runnable r, long delayMillis) {
        try {
            return timer.schedule(r, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return null; // stopping
        }
    }

    static byte[] body(String appId, List<Item> items) throws IOException {
        ObjectNode root = CALLBACK_JSON.createObjectNode();
        root.put("appId", appId);
        ArrayNode receipts = root.putArray("receipts");
        for (Item i : items) {
            ObjectNode r = receipts.addObject();
            r.put("id", Long.toString(i.id()));
            r.put("type", i.task() ? "task" : "message");
            r.put("regId", i.regId());
            r.put("param", i.param());
            r.put("ackedAt", i.ackedAtMillis());
        }
        return CALLBACK_JSON.writeValueAsBytes(root);
    }

    /** Lowercase hex HMAC-SHA256 of {@code body} keyed with the UTF-8 bytes of {@code secret}. */
    public static String sign(String secret, byte[] body) {
        return Hmac.sha256Hex(secret, body);
    }

    /**
     * Posts what is batched, waits up to one request timeout for held receipts to finish, then stops.
     * Receipts still held after that (e.g. waiting to retry a dead server) are logged and counted as abandoned
     * (in the metric only: their task counters are left alone, as they were neither posted nor given up on).
     * Close the ack consumer first so nothing new arrives.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        List<Destination.Key> keys;
        synchronized (lock) {
            keys = new ArrayList<>(destinations.keySet());
        }
        keys.forEach(this::flush);
        closed = true;
        long deadline = System.nanoTime() + config.requestTimeout().toNanos();
        while (pending() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        stopped = true;
        List<String> left = new ArrayList<>(held);
        if (!left.isEmpty()) {
            abandoned.increment(left.size());
            try {
                outbox.reschedule(left, clock.getAsLong()).get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
                log.info("[callbacks {}] stopping: {} receipts not posted yet given back to the outbox", owner, left.size());
            } catch (Exception e) {
                log.warn("[callbacks {}] stopping: {} receipts not posted yet; another node takes them after their lease ({})",
                        owner, left.size(), e.toString());
            }
        }
        timer.shutdownNow();
        httpExecutor.shutdownNow();
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** One receipt: {@code id} is the msgId, or the taskId when {@code task}. */
    record Item(long id, boolean task, String regId, String param, long ackedAtMillis) {
    }

    /** Receipts for one (app, URL): the batch being filled, batches ready to post, POSTs in flight. */
    private static final class Destination {
        record Key(String appId, String url) {
        }

        final Key key;
        final String shown;
        final List<Item> open = new ArrayList<>();
        final ArrayDeque<Batch> ready = new ArrayDeque<>();
        ScheduledFuture<?> linger;
        int inFlight;

        Destination(Key key) {
            this.key = Objects.requireNonNull(key);
            this.shown = CallbackUrlGuard.shown(key.url());
        }

        boolean idle() {
            return open.isEmpty() && ready.isEmpty() && inFlight == 0;
        }
    }

    /** One POST's worth of receipts; its body and signature are built once and re-sent as-is on retry. */
    private static final class Batch {
        final Destination dest;
        final List<Item> items;
        byte[] body;
        String signature;
        int attempts;

        Batch(Destination dest, List<Item> items) {
            this.dest = dest;
            this.items = items;
        }
    }
}
