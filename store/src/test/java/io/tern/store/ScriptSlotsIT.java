package io.tern.store;

import io.lettuce.core.cluster.SlotHash;
import io.tern.devstack.RedisServer;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.message.DeliveryChecks;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.message.RedeliveryQueue;
import io.tern.store.message.StatusMark;
import io.tern.store.nodeid.NodeIdRepository;
import io.tern.store.receipt.AckRepository;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.DeviceHash;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pins the Redis Cluster rule of the key schema: every script call of the store, as Redis receives it (read
 * with MONITOR while the repositories do their work: accept with overflow, marks, pending with task copies,
 * acks with callbacks, counts, resolution, broadcast log, redelivery, routes, node ids, outbox), passes keys
 * that all hash to one cluster slot ({@link SlotHash}). A script touching two slots fails on a cluster with
 * CROSSSLOT; on one Redis it would pass unnoticed, which is why this reads the calls themselves.
 */
class ScriptSlotsIT {
    private static final long NOW = System.currentTimeMillis();
    private static final String MARKER = "script-slots-done";
    private static final QueuePolicy POLICY = new QueuePolicy(2, Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(1));
    // The msgId pointers of the exercise's accepts: on one Redis their script also writes the pointer and the check.
    private static final Set<String> ACCEPTED_REFS = ConcurrentHashMap.newKeySet();

    /** One EVAL / EVALSHA as MONITOR showed it. */
    private record Call(String sha, List<byte[]> keys) {
        /**
         * message-accept.lua as MessageRepository runs it on one Redis: with the msgId pointer and the delivery-check
         * shard after the device's five keys. On a cluster it gets the five only (ClusterAcceptCostIT, the cluster
         * run of the message ITs) and the other two are separate commands.
         */
        boolean oneRedisAccept() {
            return keys.size() > 5 && ACCEPTED_REFS.contains(new String(keys.get(5), StandardCharsets.UTF_8));
        }

        /**
         * ack-device.lua and message-advance.lua as their repositories run them on one Redis: a batch of several
         * devices' queues and message hashes. On a cluster the same batch goes one call per device.
         */
        boolean oneRedisDeviceBatch() {
            return keys.stream().map(k -> new String(k, StandardCharsets.UTF_8))
                    .allMatch(k -> k.endsWith("}:queue") || k.contains("}:msg:"));
        }

        /** The keys of each call the repository would make instead on a cluster. */
        Collection<List<byte[]>> clusterCalls() {
            if (oneRedisAccept()) {
                return List.of(keys.subList(0, 5));
            }
            if (oneRedisDeviceBatch()) {
                Map<String, List<byte[]>> byDevice = new LinkedHashMap<>();
                keys.forEach(k -> {
                    String key = new String(k, StandardCharsets.UTF_8);
                    byDevice.computeIfAbsent(key.substring(0, key.indexOf('}') + 1), d -> new ArrayList<>()).add(k);
                });
                return byDevice.values();
            }
            return List.of(keys);
        }

        /** True when one of the calls it stands for on a cluster would pass keys of two slots. */
        boolean crossesSlots() {
            for (List<byte[]> call : clusterCalls()) {
                Set<Integer> slots = new HashSet<>();
                call.forEach(k -> slots.add(SlotHash.getSlot(k)));
                if (slots.size() > 1) {
                    return true;
                }
            }
            return false;
        }

        String describe() {
            List<String> k = new ArrayList<>();
            keys.forEach(b -> k.add(new String(b, StandardCharsets.UTF_8) + " (slot " + SlotHash.getSlot(b) + ")"));
            return sha + " " + k;
        }
    }

    @Test
    void everyScriptCallOfTheStorePassesKeysOfOneSlot() throws Exception {
        try (RedisServer server = RedisServer.start(RedisServer.Options.defaults());
             Socket monitor = new Socket(server.host(), server.port());
             RedisStore redis = RedisStore.connect(server.uri(), Duration.ofSeconds(2))) {
            List<Call> calls = new CopyOnWriteArrayList<>();
            monitor.getOutputStream().write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(monitor.getInputStream(), StandardCharsets.ISO_8859_1));
            assertEquals("+OK", in.readLine());
            Thread reader = new Thread(() -> read(in, calls), "monitor");
            reader.setDaemon(true);
            reader.start();

            exercise(redis);
            // MONITOR shows commands in the order Redis ran them: once the marker is seen, so is every script call.
            redis.async().echo(MARKER).toCompletableFuture().get(5, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.stream().anyMatch(c -> c.sha().equals(MARKER)));

            long scripts = calls.stream().filter(c -> c.keys() != null).map(Call::sha).distinct().count();
            assertTrue(scripts >= 30, "the exercise ran the store's scripts: " + scripts);
            // Three, plus the EVAL after the first EVALSHA found the script not loaded yet.
            long accepts = calls.stream().filter(c -> c.keys() != null && c.oneRedisAccept()).count();
            assertTrue(accepts >= 3, "the accepts, in their one-Redis form: " + accepts);
            long batches = calls.stream().filter(c -> c.keys() != null && c.clusterCalls().size() > 1).count();
            assertTrue(batches >= 2, "the acks and marks of two devices, each in one call on one Redis: " + batches);
            List<String> crossing = calls.stream().filter(c -> c.keys() != null && c.crossesSlots()).map(Call::describe).toList();
            assertTrue(crossing.isEmpty(), "script calls whose keys span slots: " + crossing);
        }
    }

    private static void exercise(RedisStore redis) {
        String app = "slots";
        MessageRepository messages = new MessageRepository(redis, POLICY, new DeliveryChecks(Duration.ofSeconds(5), 1000));
        TaskRepository tasks = new TaskRepository(redis, POLICY);
        RouteRepository routes = new RouteRepository(redis);
        AckRepository acks = new AckRepository(redis, Duration.ofSeconds(30), 1000, 100_000);
        BroadcastLog log = new BroadcastLog(redis, 2);
        long id = NOW * 10;

        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        routes.restore(app, "d", new Route("b1", "e2"), NOW).join();
        routes.put(app, "e", new Route("b1", "e1"), NOW).join();
        long task = ++id;
        tasks.create(new TaskBody(task, app, PayloadKind.DATA, "{}", NOW, NOW + 60_000, "http://cb", "p", 0),
                TaskState.CREATED).join();
        tasks.markSending(task).join();
        tasks.enqueue(app, task, List.of("d", "e"), NOW - 1).join();
        long expiring = ++id;
        tasks.create(new TaskBody(expiring, app, PayloadKind.DATA, "{}", NOW, NOW + 1, null, null, 0),
                TaskState.SENDING).join();
        tasks.enqueue(app, expiring, List.of("e"), NOW - 2).join();
        List<Long> msgs = new ArrayList<>();
        for (int i = 0; i < 3; i++) { // past queueMax 2: the accept evicts
            long m = ++id;
            msgs.add(m);
            ACCEPTED_REFS.add(Keys.messageRef(m));
            messages.accept(new NewMessage(m, app, "d", PayloadKind.DATA, "{}", NOW + i, NOW + 60_000, "req-" + i,
                    "http://cb", "x")).join();
        }
        messages.recordQueued(new NewMessage(++id, app, "e", PayloadKind.DATA, "{}", NOW, NOW + 60_000, null, null, null))
                .join();
        messages.advanceAll(List.of(new StatusMark(app, "d", msgs.get(1), MessageStatus.SENT),
                new StatusMark(app, "e", id, MessageStatus.OFFLINE)), NOW).join();
        messages.pending(app, "e", NOW + 10, 10).join();
        assertFalse(new RedeliveryQueue(redis).sweep(NOW + 10_000, Duration.ofSeconds(30), 10, 3).join().claims().isEmpty(),
                "the claim script ran on a shard holding a check");

        acks.applyAll(List.of(new AckRecord(app, "d", msgs.get(2), NOW, "b1"), new AckRecord(app, "e", task, NOW, "b1"),
                new AckRecord(app, "d", ++id, NOW, "b1")), NOW).join();
        long bcast = ++id;
        tasks.create(new TaskBody(bcast, app, PayloadKind.DATA, "{}", NOW, NOW + 60_000, null, null, 0),
                TaskState.SENDING).join();
        tasks.markBroadcast(bcast, 1024, 3).join();
        acks.applyCount(AckRecord.count(app, bcast, NOW, "b1",
                new long[]{DeviceHash.of("d"), DeviceHash.of("e")})).join();
        new CallbackOutbox(redis).claim(NOW + 60_000, NOW + 90_000, 10).join();
        for (int i = 0; i < 3; i++) { // past the log's length 2: trimmed
            log.append(app, bcast, NOW + 60_000, NOW).join();
        }
        log.since(app, 0, NOW, 10).join();
        tasks.recall(task, NOW).join();

        long tagged = ++id;
        tasks.create(new TaskBody(tagged, app, PayloadKind.DATA, "{}", NOW, NOW + 60_000, null, null, 0),
                TaskState.CREATED).join();
        tasks.startResolving(tagged, "{}", "a", NOW + 1_000).join();
        tasks.renewResolving(tagged, "a", NOW + 2_000, new TaskRepository.ResolveProgress("t1", 0, "0", 1)).join();
        tasks.markJobDone(tagged, "j1").join();
        tasks.abandonResolving(tagged, "a", "test", NOW).join();
        tasks.claimResolving(tagged, NOW + 1, "b", NOW + 5_000, 3).join();
        tasks.finishResolving(tagged, "b", false, null).join();
        tasks.failScheduled(tagged, "test").join();
        routes.deleteIfCurrent(app, "d", new Route("b1", "e2")).join();

        NodeIdRepository nodeIds = new NodeIdRepository(redis);
        nodeIds.acquire(7, "logic-1", "t", 10_000, NOW, true).join();
        nodeIds.renew(7, "logic-1", "t", 10_000, NOW).join();
        nodeIds.release(7, "logic-1", "t").join();
    }

    /** MONITOR lines: {@code +ts [db addr] "EVALSHA" "sha" "numkeys" "key"... "arg"...}. */
    private static void read(BufferedReader in, List<Call> calls) {
        try {
            for (String line; (line = in.readLine()) != null; ) {
                List<byte[]> words = words(line);
                if (words.size() < 2) {
                    continue;
                }
                String cmd = new String(words.get(0), StandardCharsets.US_ASCII).toUpperCase();
                if (cmd.equals("ECHO") && new String(words.get(1), StandardCharsets.UTF_8).equals(MARKER)) {
                    calls.add(new Call(MARKER, null));
                }
                if (!cmd.startsWith("EVAL") || line.contains(" lua] ")) {
                    continue;
                }
                int n = Integer.parseInt(new String(words.get(2), StandardCharsets.US_ASCII));
                String script = new String(words.get(1), StandardCharsets.UTF_8);
                String name = cmd.startsWith("EVALSHA") ? script : "eval:" + Integer.toHexString(script.hashCode());
                calls.add(new Call(name, new ArrayList<>(words.subList(3, 3 + n))));
            }
        } catch (IOException e) {
            // the server closed: the test is over
        }
    }

    /** The quoted words of a MONITOR line, unescaped (\\, \", \n, \r, \t, \a, \b, \xHH) to bytes. */
    private static List<byte[]> words(String line) {
        List<byte[]> out = new ArrayList<>();
        int i = line.indexOf("] \"");
        if (i < 0) {
            return out;
        }
        i += 2;
        while (i < line.length()) {
            if (line.charAt(i) != '"') {
                i++;
                continue;
            }
            ByteArrayOutputStream word = new ByteArrayOutputStream();
            i++;
            while (line.charAt(i) != '"') {
                char c = line.charAt(i);
                if (c == '\\') {
                    char e = line.charAt(i + 1);
                    switch (e) {
                        case 'x' -> {
                            word.write(Integer.parseInt(line.substring(i + 2, i + 4), 16));
                            i += 2;
                        }
                        case 'n' -> word.write('\n');
                        case 'r' -> word.write('\r');
                        case 't' -> word.write('\t');
                        case 'a' -> word.write(7);
                        case 'b' -> word.write('\b');
                        default -> word.write(e);
                    }
                    i += 2;
                } else {
                    word.write(c); // ISO-8859-1 decoding kept each byte as one char
                    i++;
                }
            }
            out.add(word.toByteArray());
            i++;
        }
        return out;
    }
}
