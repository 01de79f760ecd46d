package io.tern.broker.broadcast;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The broker's memory of the app broadcasts it wrote lately, by app and broadcast sequence number, so a
 * BROADCAST sent again (a logic node's retry after a reply timeout, or another node finishing the fan-out of a
 * node that died) is answered with the first one's count without writing it to any device again. Bounded: the
 * {@code capacity} most recent are kept (~150 bytes each); one older than that is written again, and the SDK's
 * msgId dedupe drops the copy at devices that had it.
 */
public final class RecentBroadcasts {
    private final int capacity;
    private final Map<String, CompletableFuture<Integer>> recent;

    /** @param capacity broadcasts remembered (0: none, every BROADCAST is written) */
    public RecentBroadcasts(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0: " + capacity);
        }
        this.capacity = capacity;
        this.recent = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<Integer>> eldest) {
                return size() > RecentBroadcasts.this.capacity;
            }
        };
    }

    /**
     * The count of the broadcast {@code broadcastSeq} of the app if it was written lately (or is being written), or
     * else the result of {@code write}, remembered. A message that is not an app broadcast (seq 0) is always written.
     *
     * @return completes with the copies written
     */
    public CompletableFuture<Integer> writeOnce(String appId, long broadcastSeq, Supplier<CompletableFuture<Integer>> write) {
        if (broadcastSeq <= 0 || capacity == 0) {
            return write.get();
        }
        String key = appId + '\u001f' + broadcastSeq;
        CompletableFuture<Integer> mine = new CompletableFuture<>();
        CompletableFuture<Integer> earlier;
        synchronized (recent) {
            earlier = recent.putIfAbsent(key, mine);
        }
        if (earlier != null) {
            return earlier;
        }
        try {
            write.get().whenComplete((n, err) -> {
                if (err != null) {
                    forget(key, mine); // not written: a resend tries again
                    mine.completeExceptionally(err);
                } else {
                    mine.complete(n);
                }
            });
        } catch (RuntimeException e) {
            forget(key, mine);
            throw e;
        }
        return mine;
    }

    private void forget(String key, CompletableFuture<Integer> entry) {
        synchronized (recent) {
            recent.remove(key, entry);
        }
    }
}
